import pytest
from engine_parity import EngineSample, make_sample  # tests/ is on sys.path


@pytest.fixture(scope="session")
def engine_sample(tmp_path_factory) -> EngineSample:
    """The sample every engine's marts are compared with, run once on DuckDB."""
    return make_sample(tmp_path_factory.mktemp("engine-sample"))
