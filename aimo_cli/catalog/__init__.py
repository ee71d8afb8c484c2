"""The model catalog: live lists from the providers merged with curated fallback data (package data, dated), cached
with diskcache under the cache dir. See `policy` (pure rules), `cache` (storage) and `fallback` (curated data);
`aimo_cli.services.models.Catalog` puts them together."""
