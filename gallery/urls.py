from django.urls import path

from gallery import views

app_name = "gallery"

urlpatterns = [
    path("gallery/", views.index, name="index"),
    path("gallery/meaning/", views.meaning_matches, name="meaning"),
    path("gallery/selection/", views.selection, name="selection"),
    path("gallery/tags/", views.tag_list, name="tags"),
    path("gallery/tags/<str:name>/", views.tag_detail, name="tag"),
    path("gallery/boards/", views.board_list, name="boards"),
    path("gallery/boards/<int:pk>/", views.board_detail, name="board"),
    path("gallery/boards/<int:pk>/rename/", views.board_rename, name="board-rename"),
    path("gallery/boards/<int:pk>/move/", views.board_move, name="board-move"),
    path("gallery/boards/<int:pk>/delete/", views.board_delete, name="board-delete"),
    path("gallery/boards/<int:pk>/cover/", views.board_cover, name="board-cover"),
    path("gallery/boards/<int:pk>/ideas/", views.board_ideas, name="board-ideas"),
    path("gallery/boards/<int:pk>/visibility/", views.board_visibility, name="board-visibility"),
    path("gallery/boards/<int:pk>/share/", views.board_share, name="board-share"),
    path("gallery/boards/<int:pk>/links/<int:link>/revoke/", views.link_revoke, name="link-revoke"),
    path("gallery/profile/", views.profile, name="profile"),
    path("explore/", views.explore, name="explore"),
    path("p/<uuid:pk>/", views.public_artwork, name="public-artwork"),
    path("p/<uuid:pk>/star/", views.public_star, name="public-star"),
    path("b/<int:pk>/", views.public_board, name="public-board"),
    path("artists/<str:username>/", views.artist_page, name="artist"),
    path("s/<str:token>/", views.shared, name="shared"),
    path("s/<str:token>/<uuid:pk>/thumbnail.webp", views.shared_file, {"kind": "thumbnail"}, name="shared-thumbnail"),
    path("s/<str:token>/<uuid:pk>/image.png", views.shared_file, {"kind": "image"}, name="shared-image"),
    path("artworks/<uuid:pk>/", views.artwork_detail, name="artwork"),
    path("artworks/<uuid:pk>/title/", views.artwork_retitle, name="artwork-retitle"),
    path("artworks/<uuid:pk>/delete/", views.artwork_delete, name="artwork-delete"),
    path("artworks/<uuid:pk>/again/", views.artwork_repeat, name="artwork-repeat"),
    path("artworks/<uuid:pk>/visibility/", views.artwork_visibility, name="artwork-visibility"),
    path("moderation/<uuid:pk>/picture", views.moderation_picture, name="moderation-picture"),
    path("artworks/<uuid:pk>/star/", views.artwork_star, name="artwork-star"),
    path("artworks/<uuid:pk>/tags/", views.artwork_tag, name="artwork-tag"),
    path("artworks/<uuid:pk>/tags/<int:tag>/remove/", views.artwork_untag, name="artwork-untag"),
    path("artworks/<uuid:pk>/boards/<int:board>/", views.artwork_board, name="artwork-board"),
]
