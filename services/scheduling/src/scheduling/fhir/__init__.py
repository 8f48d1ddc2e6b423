"""Scheduling's FHIR R4 resource: Appointment (an exam invitation), read and searched by boards and by the
HIS of the facility the exam takes place at, which marks it arrived, fulfilled or noshow."""
