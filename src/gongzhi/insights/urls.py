from django.urls import path

from . import views

app_name = "insights"
urlpatterns = [
    path("", views.board_index, name="index"),
    path("area/<str:code>/", views.area_table, name="area"),
    path("cluster/<str:code>/", views.cluster_table, name="cluster"),
    path("<str:code>/", views.community_board, name="community"),
]
