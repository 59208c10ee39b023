"""Reporting: figures in SQL, /stats, the weekly digest, its chart, the ledger."""
