"""The Library front door: concurrent writers wait in turn instead of failing."""

from __future__ import annotations

import threading
import time

from album.library.schema import Setting


def test_concurrent_write_transactions_wait_instead_of_failing(library):
    errors = []

    def writer(key: str) -> None:
        try:
            for i in range(20):
                with library.transaction() as s:
                    s.merge(Setting(key=key, value={"v": i}))
                    time.sleep(0.002)  # hold the write lock a little
        except Exception as error:  # noqa: BLE001 - any failure is the finding
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(f"k{n}",)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert library.settings() == {f"k{n}": 19 for n in range(4)}


def test_transaction_begins_immediate(library):
    with library.transaction() as s:
        conn = s.connection()
        assert conn.get_execution_options()["sqlite_begin"] == "IMMEDIATE"
        assert conn.connection.driver_connection.in_transaction
