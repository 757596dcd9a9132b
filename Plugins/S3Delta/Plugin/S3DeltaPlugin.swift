// S3/Delta plugin: work in progress.
