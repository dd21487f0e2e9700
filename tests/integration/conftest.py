from tests.integration.worker import start_worker, worker_data_dir, worker_media  # noqa: F401  (fixtures)
