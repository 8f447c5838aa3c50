"""The calculator window: bill, tip percent, people, round-up; results update live."""

from __future__ import annotations

from PySide6.QtWidgets import (QCheckBox, QFormLayout, QLabel, QLineEdit, QMainWindow,
                               QSpinBox, QWidget)

from tipcalc.money import BillError, format_amount, parse_amount, split

DASH = "—"


class MainWindow(QMainWindow):
    """Tip calculator; widgets are reachable by object name (see the task)."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Чаевые")
        self.bill_edit = QLineEdit(objectName="billEdit")
        self.bill_edit.setPlaceholderText("Сумма счёта")
        self.tip_spin = QSpinBox(objectName="tipSpin")
        self.tip_spin.setRange(0, 100)
        self.tip_spin.setValue(10)
        self.tip_spin.setSuffix(" %")
        self.people_spin = QSpinBox(objectName="peopleSpin")
        self.people_spin.setRange(1, 100)
        self.round_up_check = QCheckBox("Округлить итог вверх до рублей",
                                        objectName="roundUpCheck")
        self.tip_label = QLabel(DASH, objectName="tipLabel")
        self.total_label = QLabel(DASH, objectName="totalLabel")
        self.per_person_label = QLabel(DASH, objectName="perPersonLabel")
        self.status_label = QLabel(objectName="statusLabel")

        form = QFormLayout()
        form.addRow("Счёт", self.bill_edit)
        form.addRow("Чаевые", self.tip_spin)
        form.addRow("Человек", self.people_spin)
        form.addRow("", self.round_up_check)
        form.addRow("Чаевые, ₽", self.tip_label)
        form.addRow("Итого, ₽", self.total_label)
        form.addRow("С каждого, ₽", self.per_person_label)
        form.addRow("", self.status_label)
        central = QWidget()
        central.setLayout(form)
        self.setCentralWidget(central)

        self.bill_edit.textChanged.connect(self.recalculate)
        self.tip_spin.valueChanged.connect(self.recalculate)
        self.people_spin.valueChanged.connect(self.recalculate)
        self.round_up_check.toggled.connect(self.recalculate)

    def recalculate(self) -> None:
        """Recompute the three results from the inputs (dashes when the bill is unusable)."""
        labels = (self.tip_label, self.total_label, self.per_person_label)
        text = self.bill_edit.text()
        if not text.strip():
            self.status_label.setText("")
            for label in labels:
                label.setText(DASH)
            return
        try:
            result = split(parse_amount(text), self.tip_spin.value(), self.people_spin.value(),
                           self.round_up_check.isChecked())
        except BillError as exc:
            self.status_label.setText(str(exc))
            for label in labels:
                label.setText(DASH)
            return
        self.status_label.setText("")
        for label, amount in zip(labels, (result.tip, result.total, result.per_person),
                                 strict=True):
            label.setText(format_amount(amount))
