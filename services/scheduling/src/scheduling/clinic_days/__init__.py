"""The expert council's clinic days (two days a month): bookable sessions with a capacity."""
