"""Headcounts on any day: how many cadres were under care, and how many of them had each chronic condition
group and how many groups, per unit (as then and today), tier and status, answered from pre-aggregates that
the projections keep (`store`) instead of scanning every cadre's history (`queries`)."""
