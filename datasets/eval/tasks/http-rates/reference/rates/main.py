"""rates --api URL [--cache FILE] [--max-age S] AMOUNT FROM TO: convert with cached rates."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from pathlib import Path

TIMEOUT_S = 10


class RatesUnavailable(Exception):
    """No rates: the API failed and nothing is cached (exit 1)."""


class BadInput(ValueError):
    """An unknown currency or an amount that is not a number (exit 2)."""


@dataclass(frozen=True)
class Rates:
    """Rates relative to ``base``: 1 base = rates[code] units of code."""

    base: str
    rates: dict[str, Decimal]

    @classmethod
    def from_json(cls, data: object) -> Rates:
        """Parse the API's {"base": ..., "rates": {...}}. Raises ValueError: wrong shape."""
        if not isinstance(data, dict) or not isinstance(data.get("rates"), dict):
            raise ValueError("no 'rates' object in the answer")
        base = str(data.get("base", "")).upper()
        rates = {str(code).upper(): Decimal(str(value))
                 for code, value in data["rates"].items()}
        if base:
            rates.setdefault(base, Decimal(1))
        if any(value <= 0 for value in rates.values()):
            raise ValueError("a rate is not positive")
        return cls(base, rates)

    def convert(self, amount: Decimal, source: str, target: str) -> Decimal:
        """``amount`` of ``source`` in ``target``, through the base currency.

        Raises:
            BadInput: a currency has no rate.

        """
        for code in (source, target):
            if code not in self.rates:
                known = ", ".join(sorted(self.rates))
                raise BadInput(f"неизвестная валюта {code}; есть курсы для: {known}")
        return amount / self.rates[source] * self.rates[target]


def default_cache() -> Path:
    """The cache file in the user's cache folder."""
    root = os.environ.get("XDG_CACHE_HOME") or os.environ.get("LOCALAPPDATA")
    return Path(root or Path.home() / ".cache") / "rates" / "rates.json"


def read_cache(path: Path, api: str) -> tuple[float, object] | None:
    """(fetched_at, raw data) saved for this API, or None when there is none usable."""
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
        if saved["api"] == api:
            return float(saved["fetched_at"]), saved["data"]
    except (OSError, ValueError, KeyError, TypeError):
        pass
    return None


def write_cache(path: Path, api: str, data: object) -> None:
    """Save the rates atomically; a cache that can't be written is not an error."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        temp = path.with_name(path.name + ".tmp")
        temp.write_text(json.dumps({"api": api, "fetched_at": time.time(), "data": data}),
                        encoding="utf-8")
        temp.replace(path)
    except OSError as exc:
        print(f"rates: не удалось сохранить кэш {path}: {exc}", file=sys.stderr)


def fetch(api: str) -> object:
    """GET the API; its JSON, checked to hold usable rates. Raises RatesUnavailable."""
    try:
        with urllib.request.urlopen(api, timeout=TIMEOUT_S) as response:  # noqa: S310
            data = json.loads(response.read().decode("utf-8"))
        Rates.from_json(data)
    except urllib.error.HTTPError as exc:
        raise RatesUnavailable(f"API ответил {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise RatesUnavailable(f"API недоступен: {getattr(exc, 'reason', exc)}") from None
    except (ValueError, ArithmeticError) as exc:  # bad JSON or a bad rate
        raise RatesUnavailable(f"API прислал непонятный ответ: {exc}") from None
    return data


def load_rates(api: str, cache: Path, max_age: float) -> Rates:
    """Fresh cached rates, else the API's (cached), else stale cached rates with a warning.

    Raises:
        RatesUnavailable: the API failed and nothing usable is cached.

    """
    cached = read_cache(cache, api)
    if cached is not None and time.time() - cached[0] < max_age:
        try:
            return Rates.from_json(cached[1])
        except (ValueError, ArithmeticError):
            cached = None
    try:
        data = fetch(api)
    except RatesUnavailable as exc:
        if cached is None:
            raise
        print(f"rates: {exc}; считаю по устаревшим курсам из кэша", file=sys.stderr)
        return Rates.from_json(cached[1])
    write_cache(cache, api, data)
    return Rates.from_json(data)


def parse_amount(text: str) -> Decimal:
    """'1,5' or '1.5' -> Decimal. Raises BadInput."""
    try:
        value = Decimal(text.strip().replace(",", "."))
    except InvalidOperation:
        raise BadInput(f"сумма {text!r} — не число") from None
    if not value.is_finite():
        raise BadInput(f"сумма {text!r} — не число")
    return value


def main(argv: list[str] | None = None) -> int:
    """0 converted, 1 no rates available, 2 bad input."""
    parser = argparse.ArgumentParser(prog="rates", description=__doc__)
    parser.add_argument("--api", required=True, help="адрес API с курсами")
    parser.add_argument("--cache", type=Path, default=None, help="файл кэша")
    parser.add_argument("--max-age", type=float, default=3600, help="секунд, по умолчанию 3600")
    parser.add_argument("amount")
    parser.add_argument("source")
    parser.add_argument("target")
    args = parser.parse_args(argv)
    try:
        amount = parse_amount(args.amount)
        rates = load_rates(args.api, args.cache or default_cache(), args.max_age)
        result = rates.convert(amount, args.source.upper(), args.target.upper())
    except BadInput as exc:
        print(f"rates: {exc}", file=sys.stderr)
        return 2
    except RatesUnavailable as exc:
        print(f"rates: {exc}; кэша нет", file=sys.stderr)
        return 1
    print(result.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    return 0


if __name__ == "__main__":
    sys.exit(main())
