from django.urls import path

from jobcenter.metrics import views

urlpatterns = [path("metrics", views.metrics, name="metrics")]
