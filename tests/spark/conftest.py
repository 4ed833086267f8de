"""The Spark tests build the sample on a local Spark (minutes, and the spark extra with Java): `make test-spark`
runs them (HEALTHSCORE_TEST_SPARK=1); `make test`, which collects every folder of tests/, leaves them out."""

import os

collect_ignore_glob = [] if os.environ.get("HEALTHSCORE_TEST_SPARK") == "1" else ["test_*.py"]
