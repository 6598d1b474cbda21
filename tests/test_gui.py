"""The app driven through its real widgets (pytest-qt, offscreen): first scan, people, viewer, edits."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest  # noqa: E402
from PySide6.QtCore import QPoint, QSettings, Qt  # noqa: E402
from sqlalchemy import select  # noqa: E402

from album.gui.app import create_window  # noqa: E402
from album.gui.main_window import SETTINGS_LIBRARY, MainWindow  # noqa: E402
from album.library.schema import Face, Person  # noqa: E402
from album.people import People  # noqa: E402
from tests.fakes import fake_pipeline  # noqa: E402
from tests.gui_support import PHOTOS, colour_count, make_folder  # noqa: E402

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


@pytest.fixture
def settings(tmp_path):
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def window(qtbot, tmp_path, settings):
    win = MainWindow(settings, fake_pipeline())
    qtbot.addWidget(win)
    assert win.open_library(tmp_path / "library.db")
    win.show()
    qtbot.waitExposed(win)
    yield win
    win.close()


def settle(qtbot, win: MainWindow) -> None:
    """Wait until the scan and every queued library operation are done."""
    qtbot.waitUntil(lambda: not win.scanner.is_running() and not win.ops.is_busy(), timeout=20000)


@pytest.fixture
def scanned(qtbot, tmp_path, window):
    """A window whose library has scanned the colour-square folder and grouped its faces."""
    with qtbot.waitSignal(window.scanner.finished, timeout=20000):
        window.add_folders([make_folder(tmp_path / "photos")])
    settle(qtbot, window)
    return window


def people_rows(win: MainWindow) -> list:
    return win.library_view.people_page.model.people()


def row_index(win: MainWindow, person_id: int):
    model = win.library_view.people_page.model
    return model.index(model.row_of(person_id))


def allow_lookalike_suggestions(win: MainWindow) -> None:
    """Suggest pink and orange for red (cosine ~0.84 under the fake embedder) while grouping
    stays at the fake model's 0.95: suggestions never go below their own threshold."""
    win.lib.set_setting("clustering", {"threshold": 0.95})
    win.lib.set_setting("thresholds", {"suggestion": 0.8})


def test_first_launch_scans_with_progress_and_is_remembered(qtbot, tmp_path, window, settings):
    assert window.pages.currentWidget() is window.welcome
    window.welcome.add_folder(make_folder(tmp_path / "photos"))
    reports = []
    window.scanner.progress.connect(reports.append)
    with qtbot.waitSignal(window.scanner.finished, timeout=20000):
        qtbot.mouseClick(window.welcome.start_button, Qt.MouseButton.LeftButton)
    settle(qtbot, window)
    assert reports and reports[-1].photos_done == reports[-1].photos_total == len(PHOTOS)
    assert window.scan_bar.bar.value() == len(PHOTOS)
    assert "faces" in window.scan_bar.details.text()
    assert window.scan_bar.isHidden()
    assert window.pages.currentWidget() is window.library_view
    assert len(people_rows(window)) == 5  # five colours seen 3+ times; the lone yellow is unsorted
    assert "1)" in window.library_view.people_page.unsorted_button.text()
    assert settings.value(SETTINGS_LIBRARY) == str(tmp_path / "library.db")
    window.close()
    again = create_window([], settings, fake_pipeline())
    qtbot.addWidget(again)
    assert again.pages.currentWidget() is again.library_view  # straight to people, no welcome
    settle(qtbot, again)
    assert len(people_rows(again)) == 5
    again.close()


def test_welcome_removes_a_folder_added_by_mistake(qtbot, tmp_path, window):
    welcome = window.welcome
    photos, wrong = make_folder(tmp_path / "photos"), tmp_path / "Downloads"
    wrong.mkdir()
    welcome.add_folder(photos)
    welcome.add_folder(wrong)
    welcome.folders.setCurrentRow(1)
    welcome.folders.setFocus()
    qtbot.keyClick(welcome.folders, Qt.Key.Key_Delete)
    assert welcome.chosen() == [photos]
    welcome.folders.setCurrentRow(0)
    qtbot.mouseClick(welcome.remove_button, Qt.MouseButton.LeftButton)
    assert welcome.chosen() == [] and not welcome.start_button.isEnabled()


def test_pause_then_resume_finishes_the_scan(qtbot, tmp_path, window):
    window.lib.add_root(make_folder(tmp_path / "photos"))
    with qtbot.waitSignal(window.scanner.finished, timeout=20000) as paused:
        window.start_scan()
        qtbot.mouseClick(window.scan_bar.pause_button, Qt.MouseButton.LeftButton)
        assert window.scan_bar.title.text() == "Pausing…"  # at once, before the scan stops
    assert paused.args[1] is True
    assert window.scan_bar.pause_button.text() == "Resume" and not window.scan_bar.isHidden()
    settle(qtbot, window)
    done_before = paused.args[0].new
    with qtbot.waitSignal(window.scanner.finished, timeout=20000) as resumed:
        qtbot.mouseClick(window.scan_bar.pause_button, Qt.MouseButton.LeftButton)
        assert window.scan_bar.details.text().startswith("Resuming…")
    assert resumed.args[1] is False
    settle(qtbot, window)
    assert window.lib.stats()["photos"] == len(PHOTOS)
    assert resumed.args[0].new == len(PHOTOS) - done_before  # this run did the rest...
    # ...and the user is told about the whole scan, in a note that stays
    assert window.scan_status.text().startswith(f"Scan finished: {len(PHOTOS)} new photos")
    assert window.rescan_action.isEnabled()


def test_scan_finished_arrives_on_the_gui_thread_and_rescan_works(qtbot, tmp_path, window):
    from PySide6.QtCore import QThread

    window.lib.add_root(make_folder(tmp_path / "photos"))
    threads = []
    window.scanner.finished.connect(
        lambda *_: threads.append(QThread.currentThread()), Qt.ConnectionType.DirectConnection
    )
    for start in (window.start_scan, window.rescan_action.trigger):
        with qtbot.waitSignal(window.scanner.finished, timeout=20000):
            start()
        assert window.rescan_action.isEnabled()  # it stayed disabled after the first scan
        settle(qtbot, window)
    assert threads == [window.thread(), window.thread()]


def test_people_grid_order_and_open_person(qtbot, scanned):
    people = people_rows(scanned)
    counts = [p.photo_count for p in people]
    assert counts == sorted(counts, reverse=True)
    biggest = people[0]
    view = scanned.library_view.people_page.view
    rect = view.visualRect(row_index(scanned, biggest.id))
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
    page = scanned.library_view.person_page
    assert scanned.library_view.currentWidget() is page
    settle(qtbot, scanned)
    assert page.photo_model.rowCount() == biggest.photo_count
    assert page.face_model.rowCount() == biggest.face_count
    assert page.name_edit.text() == ""
    chips = scanned.library_view.chips
    qtbot.waitUntil(lambda: chips.get(page.face_model.face_ids()[0]) is not None, timeout=5000)


def test_click_face_in_viewer_searches_with_live_threshold(qtbot, scanned):
    lib = scanned.lib
    with lib.session() as s:
        face = s.scalar(select(Face).join(Face.photo).where(Face.photo.has(relpath="photo_02.png")))
        photo_id = face.photo_id
        same = s.scalars(select(Face).where(Face.person_id == face.person_id)).all()
        same_photos = {f.photo_id for f in same} - {photo_id}
    scanned.library_view.open_photo(photo_id)
    settle(qtbot, scanned)
    viewer = scanned.library_view.viewer_page
    assert viewer.detail.photo_id == photo_id and len(viewer.detail.faces) >= 1
    box = next(f for f in viewer.detail.faces if f.face_id == face.id)
    click_at = viewer.canvas.face_rect(box).center().toPoint()
    qtbot.mouseClick(viewer.canvas, Qt.MouseButton.LeftButton, pos=click_at)
    settle(qtbot, scanned)
    panel = viewer.search
    assert panel.threshold() == scanned.controller.people.thresholds().same_person  # as the CLI
    assert "no calibration" in panel.threshold_label.text()  # the fake model has no curve
    panel.set_threshold(0.99)  # only identical colours
    assert panel.match_count() == len(same_photos)
    assert f"{len(same_photos)} matching" in panel.count_label.text()
    panel.slider.setValue(panel.slider.minimum())  # looser: look-alike colours join
    assert panel.match_count() > len(same_photos)


def test_inline_rename(qtbot, scanned):
    from PySide6.QtWidgets import QLineEdit

    person = people_rows(scanned)[0]
    view = scanned.library_view.people_page.view
    view.setCurrentIndex(row_index(scanned, person.id))
    scanned.rename_action.trigger()
    editor = view.findChild(QLineEdit)
    assert editor is not None
    editor.selectAll()
    qtbot.keyClicks(editor, "Anna")
    qtbot.keyClick(editor, Qt.Key.Key_Return)  # the delegate commits on the next event loop turn
    qtbot.waitUntil(lambda: "Named Anna" in scanned.statusBar().currentMessage(), timeout=5000)
    settle(qtbot, scanned)
    with scanned.lib.session() as s:
        assert s.get(Person, person.id).name == "Anna"
    assert people_rows(scanned)[0].name == "Anna"  # named people come first


def test_merge_selected_then_undo(qtbot, scanned):
    before = people_rows(scanned)
    assert len(before) >= 3
    view = scanned.library_view.people_page.view
    selection = view.selectionModel()
    for person in before[:3]:
        selection.select(row_index(scanned, person.id), selection.SelectionFlag.Select)
    qtbot.keyClick(scanned, Qt.Key.Key_M, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, scanned)
    after = people_rows(scanned)
    assert len(after) == len(before) - 2
    merged = next(p for p in after if p.id in {q.id for q in before[:3]})
    assert merged.face_count == sum(q.face_count for q in before[:3])
    # one Ctrl+Z undoes the whole three-way merge
    qtbot.keyClick(scanned, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    settle(qtbot, scanned)
    assert sorted(p.id for p in people_rows(scanned)) == sorted(p.id for p in before)


def mouse_drag(qtbot, widget, start, end) -> None:
    """Press at `start`, move in steps, release at `end`: real mouse events on `widget`."""
    qtbot.mousePress(widget, Qt.MouseButton.LeftButton, pos=start)
    for step in (1, 2, 3):
        qtbot.mouseMove(widget, start + (end - start) * step / 3)
    qtbot.mouseRelease(widget, Qt.MouseButton.LeftButton, pos=end)


def test_drag_person_onto_person_asks_then_merges(qtbot, scanned):
    before = people_rows(scanned)
    page = scanned.library_view.people_page
    view = page.view
    source, target = before[1], before[0]
    start = view.visualRect(row_index(scanned, source.id)).center()
    end = view.visualRect(row_index(scanned, target.id)).center()
    mouse_drag(qtbot, view.viewport(), start, end)
    qtbot.waitUntil(lambda: page.merge_box is not None and page.merge_box.isVisible(), timeout=5000)
    box = page.merge_box
    assert box.text() == (
        f"Merge the unnamed person with {source.photo_count} photos into "
        f"the unnamed person with {target.photo_count} photos?"
    )
    assert people_rows(scanned) == before  # nothing merged before the answer
    qtbot.mouseClick(box.defaultButton(), Qt.MouseButton.LeftButton)
    settle(qtbot, scanned)
    after = {p.id: p for p in people_rows(scanned)}
    assert source.id not in after
    assert after[target.id].face_count == source.face_count + target.face_count


def test_drag_cancelled_or_onto_itself_merges_nothing(qtbot, scanned):
    before = people_rows(scanned)
    page = scanned.library_view.people_page
    view = page.view
    start = view.visualRect(row_index(scanned, before[1].id)).center()
    end = view.visualRect(row_index(scanned, before[0].id)).center()
    mouse_drag(qtbot, view.viewport(), start, end)
    qtbot.waitUntil(lambda: page.merge_box is not None and page.merge_box.isVisible(), timeout=5000)
    page.merge_box.reject()  # Cancel
    mouse_drag(qtbot, view.viewport(), start, start + QPoint(40, 0))
    settle(qtbot, scanned)
    assert people_rows(scanned) == before


def test_remove_face_from_person_and_undo(qtbot, scanned):
    person = people_rows(scanned)[0]
    library_view = scanned.library_view
    library_view.open_person(person.id)
    settle(qtbot, scanned)
    strip = library_view.person_page.face_strip
    first = strip.model().index(0, 0)
    strip.setFocus()
    strip.setCurrentIndex(first)
    removed = strip.selected_face_ids()
    qtbot.keyClick(strip, Qt.Key.Key_Delete)
    settle(qtbot, scanned)
    assert library_view.person_page.face_model.rowCount() == person.face_count - 1
    with scanned.lib.session() as s:
        assert s.get(Face, removed[0]).person_id is None
    scanned.undo_action.trigger()
    settle(qtbot, scanned)
    assert library_view.person_page.face_model.rowCount() == person.face_count


def red_person(scanned) -> int:
    """The person the red faces were grouped into."""
    with scanned.lib.session() as s:
        return s.scalar(
            select(Face.person_id).join(Face.photo).where(Face.photo.has(relpath="photo_02.png"))
        )


def test_suggestions_yes_and_no_with_keyboard(qtbot, scanned):
    red = red_person(scanned)
    allow_lookalike_suggestions(scanned)
    scanned.controller.rename(red, "Anna")
    settle(qtbot, scanned)
    page = scanned.library_view.people_page
    assert page.review_button.isEnabled()
    qtbot.mouseClick(page.review_button, Qt.MouseButton.LeftButton)
    settle(qtbot, scanned)
    review = scanned.library_view.suggestions_page
    first, second = review._queue[:2]
    assert review.question.text() in ("Is this Anna?", "Are these Anna?")
    qtbot.keyClick(review, Qt.Key.Key_Y)
    qtbot.keyClick(review, Qt.Key.Key_N)
    settle(qtbot, scanned)
    with scanned.lib.session() as s:
        assert {s.get(Face, f).person_id for f in first.face_ids} == {red}
        assert all(s.get(Face, f).person_id != red for f in second.face_ids)
    anna = next(p for p in people_rows(scanned) if p.id == red)
    assert anna.face_count == colour_count("red") + len(first.face_ids)


def test_person_page_offers_more_photos_and_reviews_only_that_person(qtbot, scanned):
    """ "N more photos may be Anna: review" on Anna's page opens the questions for her only."""
    red = red_person(scanned)
    allow_lookalike_suggestions(scanned)
    scanned.controller.rename(red, "Anna")
    settle(qtbot, scanned)
    offered = People(scanned.lib).offers(red)
    assert offered
    view = scanned.library_view
    view.open_person(red)
    settle(qtbot, scanned)
    button = view.person_page.offer_button
    assert button.isVisible() and button.text() == f"{offered[0].describe()}: review"
    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    settle(qtbot, scanned)
    review = view.suggestions_page
    assert view.currentWidget() is review and review._queue
    assert {q.person_id for q in review._queue} == {red}


def test_suggestion_faces_all_visible_one_taken_out_before_yes(qtbot, scanned):
    from album.gui.suggestions_page import cross_rect
    from album.library.schema import FaceRejection

    red = red_person(scanned)
    allow_lookalike_suggestions(scanned)
    scanned.controller.rename(red, "Anna")
    settle(qtbot, scanned)
    cover = next(p for p in people_rows(scanned) if p.id == red).cover_face_id
    scanned.resize(1280, 720)
    scanned.library_view.open_suggestions()
    settle(qtbot, scanned)
    review = scanned.library_view.suggestions_page
    first = review.current()
    assert len(first.face_ids) >= 2
    grid = review.grid
    shown = grid.viewport().rect()
    for row in range(review.faces.rowCount()):
        assert shown.contains(grid.visualRect(review.faces.index(row, 0)))  # no scrolling needed
    assert review.yes_button.text() == f"Yes, all {len(first.face_ids)}  (Y)"
    out = review.faces.face_ids()[0]
    cross = cross_rect(grid.visualRect(review.faces.index(0, 0))).center()
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=cross)
    settle(qtbot, scanned)
    assert out not in review.faces.face_ids()
    assert review.current().face_ids == tuple(f for f in first.face_ids if f != out)
    qtbot.keyClick(review, Qt.Key.Key_Y)
    settle(qtbot, scanned)
    with scanned.lib.session() as s:
        assert s.get(Face, out).person_id != red
        assert s.get(FaceRejection, (out, red)) is not None
        assert all(s.get(Face, f).person_id == red for f in first.face_ids if f != out)
    assert next(p for p in people_rows(scanned) if p.id == red).cover_face_id == cover


def name_on_person_page(qtbot, win, person_id: int, name: str):
    win.library_view.open_person(person_id)
    settle(qtbot, win)
    page = win.library_view.person_page
    page.name_edit.setFocus()
    page.name_edit.selectAll()
    qtbot.keyClicks(page.name_edit, name)
    qtbot.keyClick(page.name_edit, Qt.Key.Key_Return)
    settle(qtbot, win)
    return page


def name_second_like_first(qtbot, scanned, typed: str):
    """Name the first person Anna, then type `typed` as the second one's name."""
    first, second = people_rows(scanned)[:2]
    scanned.controller.rename(first.id, "Anna")
    settle(qtbot, scanned)
    name_on_person_page(qtbot, scanned, second.id, typed)
    return first, second, scanned.library_view.namer.box


def test_a_name_already_taken_asks_same_person_and_merges(qtbot, scanned):
    first, second, box = name_second_like_first(qtbot, scanned, "anna")
    assert box is not None and box.isVisible()
    assert box.text().startswith("There is already someone called Anna")
    with scanned.lib.session() as s:
        assert s.get(Person, second.id).name is None  # nothing happens before the answer
    qtbot.mouseClick(box.defaultButton(), Qt.MouseButton.LeftButton)  # "Merge into Anna"
    settle(qtbot, scanned)
    anna = [p for p in people_rows(scanned) if p.name == "Anna"]
    assert [p.id for p in anna] == [first.id]
    assert anna[0].face_count == first.face_count + second.face_count
    scanned.undo_action.trigger()  # one undo brings the second person back, unnamed
    settle(qtbot, scanned)
    assert {p.id: p.name for p in people_rows(scanned)}[second.id] is None


def test_a_name_already_taken_can_be_another_person(qtbot, scanned):
    first, second, box = name_second_like_first(qtbot, scanned, "Anna")
    other = next(b for b in box.buttons() if b.text() == "No, another person")
    qtbot.mouseClick(other, Qt.MouseButton.LeftButton)
    settle(qtbot, scanned)
    assert [p.id for p in people_rows(scanned) if p.name == "Anna"] == [first.id, second.id]


def test_names_complete_from_the_people_named_so_far(qtbot, scanned):
    first, second = people_rows(scanned)[:2]
    scanned.controller.rename(first.id, "Grandma Rose")
    settle(qtbot, scanned)
    page = name_on_person_page(qtbot, scanned, second.id, "")
    qtbot.keyClicks(page.name_edit, "rose")
    completer = page.name_edit.completer()
    assert completer.completionCount() == 1 and completer.currentCompletion() == "Grandma Rose"
    scanned.library_view.open_people()
    settle(qtbot, scanned)
    from PySide6.QtWidgets import QLineEdit

    view = scanned.library_view.people_page.view
    view.setCurrentIndex(row_index(scanned, second.id))
    scanned.rename_action.trigger()
    editor = view.findChild(QLineEdit)
    assert "Grandma Rose" in editor.completer().model().stringList()


def test_the_grid_keeps_its_order_while_naming(qtbot, scanned):
    before = [p.id for p in people_rows(scanned)]
    last = before[-1]
    scanned.controller.rename(last, "Zoe")
    settle(qtbot, scanned)
    assert [p.id for p in people_rows(scanned)] == before  # Zoe did not jump to the front
    scanned.library_view.open_people()  # coming back to People sorts again: named first
    settle(qtbot, scanned)
    assert people_rows(scanned)[0].id == last


def person_of_colour(win, photo: str, slot: int = 0) -> int:
    with win.lib.session() as s:
        faces = s.scalars(
            select(Face).join(Face.photo).where(Face.photo.has(relpath=photo)).order_by(Face.left)
        ).all()
        return faces[slot].person_id


def test_split_a_mixed_person_in_two_clicks_each_one_undo(qtbot, scanned):
    red = person_of_colour(scanned, "photo_02.png")  # red alone
    green = person_of_colour(scanned, "photo_00.png", 1)
    blue = person_of_colour(scanned, "photo_01.png", 1)
    sizes = {p.id: p.face_count for p in people_rows(scanned)}
    scanned.controller.merge([green, blue], red)
    scanned.controller.rename(red, "Mixed")
    settle(qtbot, scanned)
    scanned.library_view.open_person(red)
    settle(qtbot, scanned)
    page = scanned.library_view.person_page
    qtbot.mouseClick(page.split_button, Qt.MouseButton.LeftButton)  # click 1
    settle(qtbot, scanned)
    dialog = page.split_dialog
    assert sorted(len(s.group.face_ids) for s in dialog.sections) == sorted(
        (sizes[red], sizes[green], sizes[blue])
    )
    cover = next(p for p in people_rows(scanned) if p.id == red).cover_face_id
    first = dialog.sections[0]  # the group with the cover keeps the name
    assert cover in first.group.face_ids
    count = len(first.group.face_ids)
    assert first.title.text() == f"These {count} faces look like Mixed (the cover is one of them)"
    others = dialog.sections[1:]
    qtbot.keyClicks(others[0].name_edit, "Bob")
    for section in others:  # one click per group to split off
        qtbot.mouseClick(section.split_button, Qt.MouseButton.LeftButton)
        settle(qtbot, scanned)
        assert not section.split_button.isEnabled()
    rows = {p.name or p.id: p for p in people_rows(scanned)}
    assert rows["Mixed"].face_count == len(dialog.sections[0].group.face_ids)
    assert rows["Bob"].face_count == len(others[0].group.face_ids)
    assert len(people_rows(scanned)) == 5  # red, green, blue apart again; pink, orange untouched
    scanned.undo_action.trigger()  # one undo per split
    settle(qtbot, scanned)
    restored = next(p for p in people_rows(scanned) if p.id == red).face_count
    assert restored == len(first.group.face_ids) + len(others[1].group.face_ids)


def test_select_several_photos_then_delete_removes_their_faces(qtbot, scanned):
    person = people_rows(scanned)[0]
    scanned.library_view.open_person(person.id)
    settle(qtbot, scanned)
    page = scanned.library_view.person_page
    assert page.face_model.face_ids() == [r.face_id for r in page.photo_model.rows()]  # same order
    grid = page.photo_grid
    first = grid.visualRect(page.photo_model.index(0, 0)).center()
    second = grid.visualRect(page.photo_model.index(1, 0)).center()
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=first)
    qtbot.mouseClick(
        grid.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, second
    )
    chosen = [r.face_id for r in page.photo_model.rows()[:2]]
    assert page.selected_faces() == chosen
    qtbot.keyClick(grid, Qt.Key.Key_Delete)
    settle(qtbot, scanned)
    with scanned.lib.session() as s:
        assert [s.get(Face, f).person_id for f in chosen] == [None, None]
    assert page.face_model.rowCount() == person.face_count - 2


def test_usable_at_1280x720_on_every_page(qtbot, scanned):
    person = people_rows(scanned)[0]
    scanned.resize(1280, 690)  # 720 less a title bar
    scanned.scan_bar.show_started()
    view = scanned.library_view
    pages = [
        view.open_people,
        lambda: view.open_person(person.id),
        view.open_unsorted,
        view.open_suggestions,
        view.open_retrain,
    ]
    for open_page in pages:
        open_page()
        settle(qtbot, scanned)
        qtbot.wait(50)
        assert scanned.height() <= 690, view.currentWidget()  # nothing forced the window taller
        bottom = scanned.scan_bar.mapTo(scanned, scanned.scan_bar.rect().bottomLeft()).y()
        assert bottom <= scanned.statusBar().y() <= scanned.height() - scanned.statusBar().height()


def test_window_fits_the_screen_and_remembers_its_geometry(qtbot, tmp_path, settings):
    first = MainWindow(settings, fake_pipeline())
    qtbot.addWidget(first)
    free = first.screen().availableGeometry()
    assert first.width() <= free.width() and first.height() <= free.height()
    assert first.open_library(tmp_path / "library.db")
    first.show()
    qtbot.waitExposed(first)
    first.resize(first.minimumSizeHint().width(), 450)  # the offscreen screen is 800x600
    first.library_view.viewer_page.splitter.setSizes([300, 400])
    left = first.library_view.viewer_page.splitter.sizes()
    assert first.quit_action.shortcut().toString() == "Ctrl+Q"
    assert first.quit_action in first.menuBar().actions()[0].menu().actions()
    first.quit_action.trigger()
    assert not first.isVisible()
    again = MainWindow(settings, fake_pipeline())
    qtbot.addWidget(again)
    assert again.open_library(tmp_path / "library.db")
    again.show()
    qtbot.waitExposed(again)
    assert again.height() == 450 and again.width() == first.width()
    # the viewer's split as the user left it, not the default 3:1
    assert again.library_view.viewer_page.splitter.sizes() == left
    again.close()


def test_viewer_walks_the_persons_photos_with_arrows_and_escape_goes_back(qtbot, scanned):
    person = people_rows(scanned)[0]
    view = scanned.library_view
    view.open_person(person.id)
    settle(qtbot, scanned)
    rows = view.person_page.photo_model.rows()
    grid = view.person_page.photo_grid
    centre = grid.visualRect(view.person_page.photo_model.index(1, 0)).center()
    qtbot.mouseClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(grid.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    settle(qtbot, scanned)
    viewer = view.viewer_page
    assert view.currentWidget() is viewer and viewer.detail.photo_id == rows[1].photo_id
    assert viewer.canvas.highlight == rows[1].face_id  # the face we came from stands out
    assert viewer.caption.text().startswith(f"2 of {len(rows)}")
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_Right)
    settle(qtbot, scanned)
    assert viewer.detail.photo_id == rows[2].photo_id
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_Left)
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_Left)
    settle(qtbot, scanned)
    assert viewer.detail.photo_id == rows[0].photo_id
    qtbot.keyClick(viewer.canvas, Qt.Key.Key_Escape)
    assert view.currentWidget() is view.person_page


def test_viewer_zooms_with_the_wheel_and_keys(qtbot, scanned):
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    view = scanned.library_view
    with scanned.lib.session() as s:
        face = s.scalar(select(Face).join(Face.photo).where(Face.photo.has(relpath="photo_02.png")))
    view.open_photo(face.photo_id)
    settle(qtbot, scanned)
    canvas = view.viewer_page.canvas
    box = next(f for f in view.viewer_page.detail.faces if f.face_id == face.id)
    fitted = canvas.face_rect(box)
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    qtbot.keyClick(canvas, Qt.Key.Key_Plus)
    assert canvas.zoom == pytest.approx(1.25**2)
    zoomed = canvas.face_rect(box)
    assert zoomed.width() == pytest.approx(fitted.width() * 1.25**2)
    at = zoomed.center()
    wheel = QWheelEvent(
        at,
        canvas.mapToGlobal(at),
        QPoint(),
        QPoint(0, 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(canvas, wheel)  # one notch up, about the face: it stays put
    assert canvas.zoom == pytest.approx(1.25**3)
    assert (canvas.face_rect(box).center() - at).manhattanLength() < 0.5
    qtbot.keyClick(canvas, Qt.Key.Key_0)
    assert canvas.zoom == 1.0 and canvas.face_rect(box) == fitted


def test_search_results_carry_names_and_leave_with_another_photo(qtbot, scanned):
    with scanned.lib.session() as s:
        face = s.scalar(select(Face).join(Face.photo).where(Face.photo.has(relpath="photo_02.png")))
        other_photo = s.scalar(select(Face.photo_id).where(Face.person_id != face.person_id))
    scanned.controller.rename(face.person_id, "Anna")
    settle(qtbot, scanned)
    view = scanned.library_view
    view.open_photo(face.photo_id)
    settle(qtbot, scanned)
    viewer = view.viewer_page
    viewer.search_face(face.id)
    settle(qtbot, scanned)
    viewer.search.set_threshold(0.99)
    model = viewer.search.model
    captions = {
        model.index(r, 0).data(Qt.ItemDataRole.DisplayRole) for r in range(model.rowCount())
    }
    assert captions == {"Anna"}
    first_result = model.rows()[0]
    viewer.search.grid.photo_activated.emit(first_result.photo_id)  # open a result: search stays
    settle(qtbot, scanned)
    assert viewer.detail.photo_id == first_result.photo_id and viewer.search.match_count() > 0
    assert viewer.canvas.highlight == first_result.face_id
    view.open_photo(other_photo)  # another photo, not from the results: the old search goes
    settle(qtbot, scanned)
    assert viewer.search.match_count() == 0 and viewer.search.grid.isHidden()


def test_fix_a_face_from_the_photo(qtbot, scanned, monkeypatch):
    from album.gui.person_picker import Choice

    with scanned.lib.session() as s:
        red, green = s.scalars(
            select(Face).join(Face.photo).where(Face.photo.has(relpath="photo_00.png"))
        ).all()
        blue_person = s.scalar(
            select(Face.person_id)
            .join(Face.photo)
            .where(Face.photo.has(relpath="photo_01.png"))
            .order_by(Face.left.desc())
        )
    view = scanned.library_view
    view.open_photo(red.photo_id)
    settle(qtbot, scanned)
    viewer = view.viewer_page
    menu = viewer.make_face_menu(red.id)
    texts = [a.text() for a in menu.actions()]
    assert texts == ["Find in other photos", "Name this face…", "Not this person", "Not a face"]
    next(a for a in menu.actions() if a.text() == "Not a face").trigger()
    settle(qtbot, scanned)
    with scanned.lib.session() as s:
        assert s.get(Face, red.id).decision == "not_face"
    assert [f.face_id for f in viewer.detail.faces] == [green.id]  # redrawn without it
    monkeypatch.setattr(view, "pick_person", lambda _prompt, _exclude: Choice(blue_person))
    viewer._pick_person = view.pick_person
    next(a for a in viewer.make_face_menu(green.id).actions() if "face" in a.text()).trigger()
    settle(qtbot, scanned)
    with scanned.lib.session() as s:
        assert s.get(Face, green.id).person_id == blue_person


def test_shortcuts_help_lists_each_key_on_its_own_line(qtbot, window):
    from PySide6.QtWidgets import QMessageBox

    window.show_shortcuts()
    box = next(
        w for w in window.findChildren(QMessageBox) if w.windowTitle() == "Keyboard shortcuts"
    )
    text = box.text()
    assert "white-space:nowrap" in text and "Ctrl+Q" in text and "Split…" in text
    assert text.count("<tr>") > 20
    box.close()


def test_draw_a_box_around_a_missed_face_then_name_it(qtbot, tmp_path, scanned, monkeypatch):
    from album.gui.person_picker import Choice
    from album.gui.photo_canvas import FaceBox
    from tests.scan_support import photo_with_pale_face

    photo_with_pale_face(tmp_path / "photos" / "pale.png", 180)  # the fake detector misses it
    with qtbot.waitSignal(scanned.scanner.finished, timeout=20000):
        scanned.start_scan()
    settle(qtbot, scanned)
    with scanned.lib.session() as s:
        photo_id = s.scalar(
            select(Face.photo_id).join(Face.photo).where(Face.photo.has(relpath="pale.png"))
        )
    view = scanned.library_view
    view.open_photo(photo_id)
    settle(qtbot, scanned)
    viewer = view.viewer_page
    assert len(viewer.detail.faces) == 1
    monkeypatch.setattr(viewer, "_pick_person", lambda _prompt, _exclude: Choice(None, "Pale"))
    qtbot.mouseClick(viewer.add_face_button, Qt.MouseButton.LeftButton)
    area = viewer.canvas.face_rect(FaceBox(0, (178, 58, 272, 162), "")).toRect()
    qtbot.mousePress(viewer.canvas, Qt.MouseButton.LeftButton, pos=area.topLeft())
    qtbot.mouseMove(viewer.canvas, area.center())
    qtbot.mouseMove(viewer.canvas, area.bottomRight())
    qtbot.mouseRelease(viewer.canvas, Qt.MouseButton.LeftButton, pos=area.bottomRight())
    settle(qtbot, scanned)
    assert not viewer.add_face_button.isChecked()
    with scanned.lib.session() as s:
        face = s.get(Face, viewer.face_added)
        assert face.photo_id == photo_id
        assert abs(face.left - 178) < 3 and abs(face.bottom - 162) < 3
        assert s.get(Person, face.person_id).name == "Pale"
    assert len(viewer.detail.faces) == 2 and "Pale" in {f.label for f in viewer.detail.faces}


def test_retrain_page_explains_why_it_cannot_start_yet(qtbot, scanned):
    scanned.retrain_action.trigger()
    page = scanned.library_view.retrain_page
    assert scanned.library_view.currentWidget() is page
    settle(qtbot, scanned)
    assert page.plan.text().startswith("Not yet:")
    assert not page.start_button.isEnabled()


def _report(improved: bool, reason: str, after_found: int, after_false: int):
    from album.retrain.open_set import OpenSet
    from album.retrain.report import RetrainReport, Scores

    def scores(found: int, false: int) -> Scores:
        scored = Scores(0.9, 0.5, 0.8, 0.9, True, 0.5, 0.0, None, {}, 50, 12)
        scored.open_set = OpenSet(0.94, found, 50, 3, 20, 30, false, 4000, 1, 200)
        return scored

    counts = {"train_faces": 180, "trained_people": 12, "test_faces": 50, "open_set_faces": 12}
    return RetrainReport(
        "arcface", counts, scores(35, 10), scores(after_found, after_false), improved, reason
    )


def test_retrain_result_is_said_in_words_with_the_numbers_behind_details(qtbot, scanned):
    """The verdict a family reads ("finds 14% more … wrong matches unchanged"), the numbers
    only when Details is pressed, and Keep offered only for a better model."""
    scanned.retrain_action.trigger()
    page = scanned.library_view.retrain_page
    settle(qtbot, scanned)
    page._trained(_report(True, "better: finds 5 more", 40, 10))
    assert page.verdict.text() == (
        "The new model is better: it finds 14% more of your named people's photos, "
        "and wrong matches with other people are unchanged."
    )
    assert "3 named people were kept aside" in page.explained.text()
    assert page.keep_button.isEnabled() and not page.scores.isVisible()
    qtbot.mouseClick(page.details_button, Qt.MouseButton.LeftButton)
    assert page.scores.isVisible()
    labels = [page.scores.verticalHeaderItem(r).text() for r in range(page.scores.rowCount())]
    assert labels[0] == "Named people's test photos found"
    assert (
        page.scores.item(0, 0).text() == "35 of 50" and page.scores.item(0, 1).text() == "40 of 50"
    )
    page._trained(_report(False, "it mixes up people it was not taught more often", 40, 30))
    assert page.verdict.text().startswith("The new model is not better, so your current model")
    assert "mixes up people it was not taught" in page.verdict.text()
    assert not page.keep_button.isEnabled() and not page.scores.isVisible()


def test_unreadable_files_are_reported_plainly(qtbot, tmp_path, window):
    folder = make_folder(tmp_path / "photos")
    (folder / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with qtbot.waitSignal(window.scanner.finished, timeout=20000):
        window.add_folders([folder])
    settle(qtbot, window)
    box = window.problems_box
    assert box is not None and box.isVisible()
    assert box.text().startswith("1 file was skipped")
    assert "broken.jpg" in box.detailedText() and "Traceback" not in box.detailedText()
    assert "1 file could not be read" in window.scan_status.text()


def test_people_appear_while_the_scan_runs(qtbot, tmp_path, window, monkeypatch):
    monkeypatch.setattr("album.gui.scanning.GROUP_EVERY_S", 0.0)  # group after the first batch
    folder = make_folder(tmp_path / "photos")
    events = []
    window.scanner.grouped.connect(lambda: events.append("grouped"))
    window.scanner.finished.connect(lambda *_: events.append("finished"))
    window.add_folders([folder])
    qtbot.waitUntil(lambda: "finished" in events, timeout=20000)
    assert events[0] == "grouped"  # people were grouped before the scan ended
    settle(qtbot, window)
    assert len(people_rows(window)) == 5


def test_the_grid_applies_each_edit_in_place(qtbot, scanned, monkeypatch):
    page, people = scanned.library_view.people_page, scanned.controller.people
    resets, removed, full_reads = [], [], []
    page.model.modelReset.connect(lambda: resets.append(True))
    page.model.rowsRemoved.connect(lambda _parent, first, _last: removed.append(first))
    real_list = people.list_people
    monkeypatch.setattr(
        people, "list_people", lambda *a, **k: full_reads.append(True) or real_list(*a, **k)
    )
    before = people_rows(scanned)
    keep, other = before[0], before[1]
    scanned.controller.merge([other.id], keep.id)
    settle(qtbot, scanned)
    after = people_rows(scanned)
    assert [p.id for p in after] == [p.id for p in before if p.id != other.id]  # nobody moved
    assert after[0].face_count == keep.face_count + other.face_count
    assert removed == [1] and not resets and not full_reads
    scanned.controller.undo()
    settle(qtbot, scanned)
    assert sorted(p.id for p in people_rows(scanned)) == sorted(p.id for p in before)
    scanned.controller.hide(keep.id)  # hidden people leave the grid unless shown
    settle(qtbot, scanned)
    assert keep.id not in {p.id for p in people_rows(scanned)}
    assert not resets and not full_reads


def test_the_people_page_owns_rename_merge_and_hide(qtbot, scanned):
    page = scanned.library_view.people_page
    texts = [action.text() for action in page.view.actions()]
    assert texts == ["Rename\tF2", "Merge selected people\tCtrl+M", "Hide / show person\tCtrl+H"]
    person = people_rows(scanned)[0]
    page.view.setCurrentIndex(row_index(scanned, person.id))
    scanned.merge_action.trigger()  # one person selected: nothing to merge, and it says so
    assert "two or more" in scanned.statusBar().currentMessage()
    page.view.actions()[2].trigger()  # the context menu's Hide
    settle(qtbot, scanned)
    assert person.id not in {p.id for p in people_rows(scanned)}


def test_hide_and_show_again(qtbot, scanned):
    person = people_rows(scanned)[0]
    page = scanned.library_view.people_page
    page.view.setCurrentIndex(row_index(scanned, person.id))
    scanned.hide_action.trigger()
    settle(qtbot, scanned)
    assert person.id not in {p.id for p in people_rows(scanned)}
    page.show_hidden.setChecked(True)
    settle(qtbot, scanned)
    hidden = next(p for p in people_rows(scanned) if p.id == person.id)
    assert hidden.hidden
    page.view.setCurrentIndex(row_index(scanned, person.id))
    scanned.hide_action.trigger()
    settle(qtbot, scanned)
    page.show_hidden.setChecked(False)
    settle(qtbot, scanned)
    assert person.id in {p.id for p in people_rows(scanned)}


def test_gui_command_opens_on_a_photo_folder(qtbot, tmp_path, settings, monkeypatch):
    monkeypatch.setenv("FACE_ALBUM_LIBRARY", str(tmp_path / "library.db"))
    folder = make_folder(tmp_path / "photos")
    win = create_window([str(folder)], settings, fake_pipeline())
    qtbot.addWidget(win)
    qtbot.waitUntil(
        lambda: win.lib is not None and win.lib.stats()["photos"] == len(PHOTOS), timeout=20000
    )
    settle(qtbot, win)
    assert [str(p) for _, p in win.lib.roots()] == [str(folder)]
    assert len(people_rows(win)) == 5
    win.close()


def test_rename_on_the_person_page(qtbot, scanned):
    person = people_rows(scanned)[0]
    scanned.library_view.open_person(person.id)
    settle(qtbot, scanned)
    page = scanned.library_view.person_page
    scanned.rename_action.trigger()  # F2 focuses the name
    qtbot.keyClicks(page.name_edit, "Grandma Rose")
    qtbot.keyClick(page.name_edit, Qt.Key.Key_Return)
    settle(qtbot, scanned)
    with scanned.lib.session() as s:
        assert s.get(Person, person.id).name == "Grandma Rose"
    assert page.name_edit.text() == "Grandma Rose"


def test_the_search_slider_spans_the_models_calibrated_scale():
    from album.gui.viewer_page import slider_range
    from training.spec import Thresholds

    curve = ((0.91, 1e-2, 9), (0.93, 1e-3, 9), (0.955, 1e-5, 9), (0.965, 1e-6, 9))
    assert slider_range(Thresholds(0.955, 0.93, fmr_curve=curve)) == (0.91, 0.965)
    assert slider_range(Thresholds(0.97, 0.93, fmr_curve=curve)) == (0.91, 0.97)  # an override
    assert slider_range(Thresholds(0.5, 0.4)) == (0.3, 0.99)  # no curve: the old scale


def test_settings_say_what_the_grouping_threshold_means_here_and_save(qtbot, scanned):
    from PySide6.QtWidgets import QDialog

    from album import settings
    from album.gui.settings_dialog import SettingsDialog
    from album.people import People

    dialog = SettingsDialog(scanned.lib, scanned.ops, scanned.settings, scanned)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitUntil(lambda: dialog.loaded is not None)
    meaning = People(scanned.lib).threshold_meaning().describe()
    assert f"Grouping people at {meaning}" in dialog.thresholds.text()
    label = dialog.thresholds  # the dialog grew to hold every line of it
    assert label.height() >= label.heightForWidth(label.width())
    dialog.min_face.setValue(60)
    dialog.device.setCurrentIndex(dialog.device.findData("cpu"))
    dialog.save()
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted)
    assert settings.read(scanned.lib) == settings.Settings(min_face_size=60, device="cpu")


def test_settings_switches_the_face_model(qtbot, scanned, monkeypatch):
    from PySide6.QtWidgets import QDialog
    from sqlalchemy import select

    from album.gui.settings_dialog import SettingsDialog
    from album.library.models import activate_model, ensure_model, model_spec
    from album.library.schema import Model
    from album.retrain import Switched

    lib = scanned.lib
    with lib.transaction() as s:
        first = s.scalar(select(Model.id).where(Model.active))
        second = ensure_model(s, model_spec(s, first).replace(name="retrained"), None, first)
    calls = []

    def fake_use_model(lib, model_id, progress, cancel, device):
        for done in range(1, 4):
            progress("reembed", done, 3)
        with lib.transaction() as s:
            activate_model(s, model_id)
        calls.append(model_id)
        return Switched(model_id, True, 3)

    monkeypatch.setattr("album.retrain.use_model", fake_use_model)
    dialog = SettingsDialog(lib, scanned.ops, scanned.settings, scanned)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded is not None)
    assert dialog.model.count() == 2 and dialog.model.isEnabled()
    assert "built in" in dialog.model.itemText(0) and "Retrained" in dialog.model.itemText(1)
    assert dialog.model.currentData() == first
    dialog.save()  # nothing chosen: saves the settings and closes without switching
    qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted)
    assert calls == [] and not dialog.model_switched

    dialog = SettingsDialog(lib, scanned.ops, scanned.settings, scanned)
    qtbot.addWidget(dialog)
    qtbot.waitUntil(lambda: dialog.loaded is not None)
    dialog.model.setCurrentIndex(1)
    dialog.save()
    qtbot.waitUntil(lambda: dialog.model_switched, timeout=10_000)
    assert calls == [second] and lib.active_model_id() == second
    assert dialog.switch_bar.value() == 3


def test_the_window_has_the_app_icon(window):
    from album.gui.icon import app_icon

    icon = app_icon()
    assert not icon.isNull()
    pixmap = icon.pixmap(64, 64)
    assert not pixmap.isNull() and pixmap.width() == 64
    assert not window.windowIcon().isNull()
