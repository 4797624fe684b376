"""`lai`, the participants' command line for the LAI Challenge Platform. It talks only to the
platform's HTTP API (/api/v1) and needs nothing but the standard library and `requests`;
the entry point is `lai_client.cli:main`."""
