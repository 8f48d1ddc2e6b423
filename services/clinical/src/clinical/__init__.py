"""Clinical records and hospital ingestion: exam results, visits, admissions, referrals."""
