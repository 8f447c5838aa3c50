import csv

import pytest

from inventory import Inventory


@pytest.fixture
def db(tmp_path):
    return tmp_path / "stock.db"


def test_receive_and_ship_return_the_quantity_and_persist(db):
    inv = Inventory(db)
    inv.add_item("MUG-01", "Кружка «Кот»", 5, 2)
    assert inv.receive("MUG-01", 10) == 15
    assert inv.ship("MUG-01", 4) == 11
    assert inv.quantity("MUG-01") == 11
    again = Inventory(db)
    assert again.quantity("MUG-01") == 11
    assert again.ship("MUG-01", 11) == 0
    assert Inventory(db).quantity("MUG-01") == 0


def test_bad_operations_raise_and_change_nothing(db):
    inv = Inventory(db)
    inv.add_item("CAB-USB", "USB cable", 3, 1)
    with pytest.raises(ValueError):
        inv.ship("CAB-USB", 4)
    for bad in (0, -2):
        with pytest.raises(ValueError):
            inv.receive("CAB-USB", bad)
        with pytest.raises(ValueError):
            inv.ship("CAB-USB", bad)
    with pytest.raises(ValueError):
        inv.add_item("CAB-USB", "Another cable", 50, 0)
    with pytest.raises(ValueError):
        inv.add_item("NEG", "Negative", -1, 0)
    assert inv.quantity("CAB-USB") == 3
    assert Inventory(db).quantity("CAB-USB") == 3
    assert inv.history("CAB-USB") == [3]
    for call in (lambda: inv.quantity("NOPE"), lambda: inv.receive("NOPE", 1),
                 lambda: inv.ship("NOPE", 1), lambda: inv.history("NOPE")):
        with pytest.raises(KeyError):
            call()


def test_history_lists_signed_changes_in_order(db):
    inv = Inventory(db)
    inv.add_item("A", "Starts with stock", 10)
    inv.add_item("B", "Starts empty")
    inv.ship("A", 3)
    inv.receive("B", 7)
    inv.receive("A", 5)
    inv.ship("A", 12)
    assert inv.history("A") == [10, -3, 5, -12]
    assert inv.history("B") == [7]
    assert Inventory(db).history("A") == [10, -3, 5, -12]


def test_low_stock_at_or_below_level_biggest_shortfall_first(db):
    inv = Inventory(db)
    inv.add_item("P-3", "Pens", 4, 4)            # at the level: shortfall 0
    inv.add_item("P-2", "Paper", 1, 10)          # shortfall 9
    inv.add_item("P-1", "Pencils", 0, 5)         # shortfall 5
    inv.add_item("P-4", "Plenty", 50, 5)         # not low
    inv.add_item("P-0", "Glue", 2, 7)            # shortfall 5, ties by SKU
    assert inv.low_stock() == [("P-2", "Paper", 1, 10), ("P-0", "Glue", 2, 7),
                               ("P-1", "Pencils", 0, 5), ("P-3", "Pens", 4, 4)]
    inv.receive("P-2", 20)
    inv.ship("P-4", 45)
    assert [item[0] for item in inv.low_stock()] == ["P-0", "P-1", "P-3", "P-4"]


def read_csv(path):
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle))


def test_report_command_writes_utf8_csv(run_app, db, tmp_path):
    inv = Inventory(db)
    inv.add_item("T-1", "Футболка, белая", 1, 3)
    inv.add_item("T-2", "Mug", 9, 3)
    del inv
    out = tmp_path / "low.csv"
    result = run_app("--db", db, "report", out)
    assert result.returncode == 0, result.stderr
    assert read_csv(out) == [["sku", "name", "quantity", "reorder_level", "shortfall"],
                             ["T-1", "Футболка, белая", "1", "3", "2"]]
    empty_db = tmp_path / "empty.db"
    Inventory(empty_db).add_item("X", "Fine", 10, 1)
    assert run_app("--db", empty_db, "report", out).returncode == 0
    assert read_csv(out) == [["sku", "name", "quantity", "reorder_level", "shortfall"]]


def test_report_on_a_missing_database_is_an_error(run_app, tmp_path):
    missing = tmp_path / "nope.db"
    result = run_app("--db", missing, "report", tmp_path / "out.csv")
    assert result.returncode == 1
    assert result.stderr.strip()
    assert "Traceback" not in result.stderr
    assert not missing.exists()
