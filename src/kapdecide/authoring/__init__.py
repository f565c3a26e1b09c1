"""Tools for protocol authors and auditors: test cases, the impact of a protocol change, replaying a
report.
"""
