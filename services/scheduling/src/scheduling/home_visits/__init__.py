"""Home-visit schedules (khám tại nhà, thăm hỏi) of central-tier and group-1 cadres."""
