"""Importing a board's list of cadres (CSV or XLSX), with a dry run that reports every row's problems."""
