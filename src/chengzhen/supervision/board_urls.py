"""Pages of the supervision board (督查看板) under /supervision/: ``board/``, ``?programme=CODE``."""

from django.urls import path

from . import board_views

urlpatterns = [
    path("board/", board_views.board_page, name="board"),
]
