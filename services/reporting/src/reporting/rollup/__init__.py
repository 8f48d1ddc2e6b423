"""The national roll-up by province for the central board: de-identified aggregates with small cells
suppressed, as an endpoint and as the job `python -m reporting.rollup`."""
