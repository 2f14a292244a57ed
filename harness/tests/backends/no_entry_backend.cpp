// A shared library that is not a normcheck backend: it exports no
// normcheck_backend_v1. Loading it must be refused with a clear message.
extern "C" __attribute__((visibility("default"))) int not_a_backend(void) {
  return 42;
}
