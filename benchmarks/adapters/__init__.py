"""Competitor adapters for `benchmarks/run.py`: one class per library, behind one small interface per section."""
