"""An open library's pages (People, a person, Unsorted, the viewer, Suggestions) and the way between them.

Owns the thumbnail caches shared by the pages, keeps a Back history, routes each change set
from the controller to the pages that show it, and hands the window's Rename / Merge / Hide to
the page shown (each page does them to what it shows).
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray
from PySide6.QtWidgets import QStackedWidget, QWidget

from album.gui.controller import AlbumController
from album.gui.loaders import ChipLoader, PhotoLoader
from album.gui.naming import Namer
from album.gui.people_page import PeoplePage
from album.gui.person_page import PersonPage
from album.gui.person_picker import Choice, PersonPicker
from album.gui.retrain_page import RetrainPage
from album.gui.suggestions_page import SuggestionsPage
from album.gui.thumbs import ThumbnailCache
from album.gui.unsorted_page import UnsortedPage
from album.gui.viewer_page import ViewerPage
from album.people.types import ChangeSet

CHIP_SIZE = 112


class LibraryView(QStackedWidget):
    """The stack of pages for one library, with a history for Back."""

    def __init__(self, controller: AlbumController, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.controller = controller
        self.chips = ThumbnailCache(
            ChipLoader(controller.lib, CHIP_SIZE), capacity=5000, parent=self
        )
        self.photos = ThumbnailCache(PhotoLoader(220), capacity=600, parent=self)
        self.full = ThumbnailCache(PhotoLoader(2400), capacity=4, threads=1, parent=self)
        self.namer = Namer(controller, self)
        self.people_page = PeoplePage(controller, self.chips, self.namer)
        self.person_page = PersonPage(
            controller, self.chips, self.photos, self.pick_person, self.namer
        )
        self.unsorted_page = UnsortedPage(controller, self.chips, self.pick_person)
        self.viewer_page = ViewerPage(controller, self.photos, self.full, self.pick_person)
        self.suggestions_page = SuggestionsPage(controller, self.chips)
        self.retrain_page = RetrainPage(controller)
        for page in (
            self.people_page,
            self.person_page,
            self.unsorted_page,
            self.viewer_page,
            self.suggestions_page,
            self.retrain_page,
        ):
            self.addWidget(page)
        self._history: list[tuple[QWidget, object]] = []
        self._connect()

    def _connect(self) -> None:
        self.people_page.person_opened.connect(self.open_person)
        self.people_page.unsorted_opened.connect(self.open_unsorted)
        self.people_page.review_opened.connect(self.open_suggestions)
        self.person_page.review_opened.connect(self.open_suggestions)
        self.retrain_page.review_opened.connect(self.open_suggestions)
        self.person_page.photo_opened.connect(self._open_person_photo)
        self.person_page.person_gone.connect(self.back)
        self.unsorted_page.photo_opened.connect(self.open_photo)
        self.viewer_page.photo_opened.connect(self._open_search_result)
        self.viewer_page.closed.connect(self.back)
        self.suggestions_page.finished.connect(self.people_page.refresh)
        self.controller.changed.connect(self._on_changed)

    # -- navigation -------------------------------------------------------------------------
    def open_people(self) -> None:
        self._history.clear()
        self._go(self.people_page, None)

    def open_person(self, person_id: int) -> None:
        self._go(self.person_page, person_id)

    def open_unsorted(self) -> None:
        self._go(self.unsorted_page, None)

    def open_photo(
        self, photo_id: int, sequence: list[int] | None = None, face_id: int | None = None
    ) -> None:
        """The viewer on `photo_id`; Left / Right walk `sequence`; `face_id` is highlighted."""
        self._go(self.viewer_page, (photo_id, sequence, face_id, False))

    def _open_person_photo(self, photo_id: int) -> None:
        rows = self.person_page.photo_model.rows()
        face = next((r.face_id for r in rows if r.photo_id == photo_id), None)
        self.open_photo(photo_id, [r.photo_id for r in rows], face)

    def _open_search_result(self, photo_id: int, sequence: list[int], face_id: int | None) -> None:
        self._go(self.viewer_page, (photo_id, sequence, face_id, True))

    def open_suggestions(self, person_id: int | None = None) -> None:
        """The "Is this …?" questions, all of them or only `person_id`'s."""
        self._go(self.suggestions_page, person_id)

    def open_retrain(self) -> None:
        self._go(self.retrain_page, None)

    def back(self) -> None:
        if len(self._history) > 1:
            self._history.pop()
            page, arg = self._history.pop()
            self._go(page, arg)

    def _go(self, page: QWidget, arg: object) -> None:
        self.photos.drop_pending()  # thumbnails queued for the page we leave are stale
        self._history.append((page, arg))
        self.setCurrentWidget(page)
        if page is self.people_page:
            self.people_page.refresh()
        elif page is self.person_page:
            self.person_page.show_person(arg)
        elif page is self.unsorted_page:
            self.unsorted_page.refresh()
        elif page is self.viewer_page:
            self.viewer_page.show_photo(*(arg if isinstance(arg, tuple) else (arg,)))
        elif page is self.suggestions_page:
            self.suggestions_page.start(arg)
        elif page is self.retrain_page:
            self.retrain_page.refresh()

    # -- the window's actions, done by the page shown ---------------------------------------
    def rename(self) -> None:
        """F2: the People grid edits the current tile; a person's page focuses the name."""
        self._page_does("rename_current")

    def merge(self) -> None:
        self._page_does("merge_selected")

    def hide(self) -> None:
        self._page_does("hide_selected")

    def _page_does(self, action: str) -> None:
        method = getattr(self.currentWidget(), action, None)
        if method is not None:  # a page without it has nothing to rename, merge or hide
            method()

    def save_state(self) -> QByteArray:
        """What the window keeps for the next launch: the viewer's photo / search split."""
        return self.viewer_page.splitter.saveState()

    def restore_state(self, state: QByteArray | None) -> None:
        if state is not None:
            self.viewer_page.splitter.restoreState(state)

    # -- changes ----------------------------------------------------------------------------
    def _on_changed(self, changes: ChangeSet | None) -> None:
        # tiles stay put while the user names and merges; a scan's new people sort in
        self.people_page.on_changed(changes)
        current = self.currentWidget()
        if current is self.person_page:
            self.person_page.on_changed(changes)
        elif current is self.unsorted_page:
            self.unsorted_page.on_changed(changes)
        elif current is self.viewer_page and self.viewer_page.detail is not None:
            self.viewer_page.reload()

    def shutdown(self) -> None:
        """Stop decoding before the caches go away (a worker must not report to a deleted one)."""
        self.retrain_page.shutdown()
        for cache in (self.chips, self.photos, self.full):
            cache.drop_pending()
            cache.wait()

    def pick_person(self, prompt: str, exclude: int | None) -> Choice | None:
        dialog = PersonPicker(self.people_page.model.people(), prompt, exclude, self)
        return dialog.choice() if dialog.exec() else None
