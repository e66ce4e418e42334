"""Charts of the indicators and the steering group's status report (README, "Charts and
the status report"). matplotlib and WeasyPrint are imported only when a chart or a
report is made: a cycle that sends neither never loads them."""
