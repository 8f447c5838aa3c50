"""Test support code: helpers shared by the test suites (not shipped in the wheel)."""
