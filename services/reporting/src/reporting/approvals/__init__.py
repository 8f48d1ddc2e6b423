"""The board reports' approval chain (issue 13): drafts with the board's words, submission up the chain, return,
approval and acceptance; locked periods, late records and re-issues; completeness and timeliness of boards."""
