"""The dashboard: a unit's figures over a period (cadres, exam coverage, classification, activity, chronic
conditions), the units a caller may pick, and the page that shows them."""
