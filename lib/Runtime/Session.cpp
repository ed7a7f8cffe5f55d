//===- Session.cpp - the public runtime API -------------------------------===//

#include "Executor.h"

#include <fstream>
#include <new>

using namespace mobileone::runtime;

Session::Session() = default;
Session::~Session() = default;

std::unique_ptr<Session> Session::create(std::vector<uint8_t> bytes,
                                         const Options &options,
                                         std::string &error) {
  // The library is built with exceptions so that running out of memory is
  // an error for the caller, not a terminate.
  try {
    return createImpl(std::move(bytes), options, error);
  } catch (const std::bad_alloc &) {
    error = "out of memory while loading the model";
    return nullptr;
  }
}

std::unique_ptr<Session> Session::createImpl(std::vector<uint8_t> bytes,
                                             const Options &options,
                                             std::string &error) {
  if (options.threads < 1 || options.threads > 256) {
    error = "threads must be between 1 and 256";
    return nullptr;
  }
  std::unique_ptr<Session> s(new Session());
  s->model = Model::load(std::move(bytes), error);
  if (!s->model)
    return nullptr;
  auto reference = std::make_unique<ReferenceExecutor>(*s->model);
  s->planned = reference->plannedBytes();
  s->unplanned = reference->unplannedBytes();
  if (options.reference) {
    s->fallback = "reference kernels requested";
  } else {
    s->executor =
        createXnnpackExecutor(*s->model, options.threads, s->fallback);
    if (s->executor)
      return s;
  }
  s->executor = std::move(reference);
  return s;
}

std::unique_ptr<Session> Session::createFromFile(const std::string &path,
                                                 const Options &options,
                                                 std::string &error) {
  std::ifstream file(path, std::ios::binary | std::ios::ate);
  if (!file) {
    error = "cannot open '" + path + "'";
    return nullptr;
  }
  std::streamoff size = file.tellg();
  if (size < 0 || size > (std::streamoff(1) << 31)) {
    error = "'" + path + "' is not a readable file of at most 2 GiB";
    return nullptr;
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(size));
  file.seekg(0);
  if (!file.read(reinterpret_cast<char *>(bytes.data()), size)) {
    error = "cannot read '" + path + "'";
    return nullptr;
  }
  return create(std::move(bytes), options, error);
}

const TensorInfo &Session::inputInfo() const { return model->inputInfo; }
const TensorInfo &Session::outputInfo() const { return model->outputInfo; }
const char *Session::backend() const { return executor->name(); }
size_t Session::plannedActivationBytes() const { return planned; }
size_t Session::unplannedActivationBytes() const { return unplanned; }

bool Session::run(const float *input, float *output, std::string &error) {
  try {
    return executor->run(input, output, error);
  } catch (const std::bad_alloc &) {
    error = "out of memory while running the model";
    return false;
  }
}
