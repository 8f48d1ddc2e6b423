"""Convalescence trips (nghỉ dưỡng): eligibility rules as versioned data, trips with a quota, registrations."""
