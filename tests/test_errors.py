"""A user's error raised in a worker process reaches the command line as the same error."""

from __future__ import annotations

import pickle
from concurrent.futures import ProcessPoolExecutor

import pytest

from sim.errors import ArgumentError, BadInput, ConfigError, FolderError

ERRORS = [
    ConfigError("a.toml", "uncertain.0.prior", "clashes with uncertain.1", ("force",),
                (ConfigError("a.toml", "uncertain.1.prior", "clashes with uncertain.0"),)),
    ArgumentError("replications", 0, "should be at least 1"),
    FolderError("results/x", "exists", ("resume", "overwrite")),
]


@pytest.mark.parametrize("err", ERRORS, ids=lambda e: type(e).__name__)
def test_errors_survive_pickling_with_their_fields(err: BadInput) -> None:
    back = pickle.loads(pickle.dumps(err))
    assert type(back) is type(err)
    assert str(back) == str(err)
    def fields(e: BadInput) -> dict:
        return {k: [str(x) for x in v] if k == "more" else v for k, v in vars(e).items()}

    assert fields(back) == fields(err)


def _raise(err: BadInput) -> None:
    raise err


def test_a_worker_raises_the_users_error_not_an_internal_one() -> None:
    with ProcessPoolExecutor(1) as pool:
        fut = pool.submit(_raise, ERRORS[0])
        with pytest.raises(ConfigError) as got:
            fut.result()
    assert str(got.value) == str(ERRORS[0])
