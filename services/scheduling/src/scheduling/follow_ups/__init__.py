"""Follow-ups clinical records ask for (a re-exam appointment: QĐ 130's XML14), due, overdue, done or cancelled."""
