// Loads a .tflite through the installed runtime and runs it on ones.
#include <mobileone/Runtime/Runtime.h>

#include <cstdio>
#include <vector>

int main(int argc, char **argv) {
  std::string error;
  auto session = mobileone::runtime::Session::createFromFile(
      argc > 1 ? argv[1] : "model.tflite", {/*threads=*/2}, error);
  if (!session) {
    std::fprintf(stderr, "app: %s\n", error.c_str());
    return 1;
  }
  std::vector<float> in(session->inputInfo().numElements(), 1.0f);
  std::vector<float> out(session->outputInfo().numElements());
  if (!session->run(in.data(), out.data(), error)) {
    std::fprintf(stderr, "app: %s\n", error.c_str());
    return 1;
  }
  std::printf("app: %zu outputs, first %g\n", out.size(), out[0]);
  return 0;
}
