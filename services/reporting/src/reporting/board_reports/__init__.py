"""The six-monthly and yearly board reports (báo cáo 6 tháng / năm): computed with their arithmetic checks,
downloadable as XLSX or PDF, and issued (stored verbatim and announced) by the board of the unit."""
