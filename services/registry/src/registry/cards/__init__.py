"""Health-care cards (thẻ khám chữa bệnh): issue, re-issue when printed details change, look-up by a facility."""
