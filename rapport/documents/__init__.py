"""Documents and files on any record: versions, folders, links, safe storage and serving."""
