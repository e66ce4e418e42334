"""The pure core (docs/architecture.md): the workbook contract, reading rows, the rules,
the W columns, the kinds of mail. No I/O, no clock, no environment (tests/test_purity.py)."""
