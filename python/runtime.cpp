//===- runtime.cpp - mobileone._runtime: the runtime for Python ----------===//
//
// pybind11 bindings of mobileone::runtime::Session (Runtime.h): load a
// .tflite (every check of the loader applies), describe its interface, run
// it on NumPy arrays with the GIL released. The Python package
// (python/mobileone/__init__.py) wraps it with the interface users call.
//
//===----------------------------------------------------------------------===//

#include "mobileone/Runtime/Npy.h"
#include "mobileone/Runtime/Runtime.h"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace py = pybind11;
using namespace mobileone::runtime;

namespace {

/// A file the runtime refuses, or a run that fails: the runtime's message.
struct ModelError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

std::string shapeText(const std::vector<int64_t> &shape) {
  std::ostringstream os;
  os << "(";
  for (size_t i = 0; i < shape.size(); ++i)
    os << (i ? ", " : "") << shape[i];
  os << (shape.size() == 1 ? ",)" : ")");
  return os.str();
}

py::dict describe(const TensorInfo &t, bool nhwc) {
  py::dict d;
  d["name"] = t.name;
  d["shape"] = py::tuple(py::cast(t.shape));
  d["dtype"] = dtypeName(t.dtype);
  d["layout"] = t.shape.size() == 4 ? (nhwc ? "NHWC" : "NCHW") : "";
  if (t.dtype == DType::Int8) {
    d["scale"] = t.scale;
    d["zero_point"] = t.zeroPoint;
  }
  return d;
}

class PySession {
public:
  /// From a file (messages name it) or from the bytes of one.
  PySession(const py::object &source, int threads, bool reference) {
    if (threads < 1 || threads > 256)
      throw py::value_error("threads must be between 1 and 256, got " +
                            std::to_string(threads));
    Options options;
    options.threads = threads;
    options.reference = reference;
    std::string error, what;
    if (py::isinstance<py::bytes>(source)) {
      // The session reads the (immutable) bytes object in place; it is kept
      // alive as long as the session.
      bytes = py::reinterpret_borrow<py::bytes>(source);
      char *data = nullptr;
      Py_ssize_t size = 0;
      if (PyBytes_AsStringAndSize(bytes.ptr(), &data, &size) != 0)
        throw py::error_already_set();
      what = "the model bytes";
      py::gil_scoped_release release;
      session = Session::createView(data, size_t(size), options, error);
    } else {
      what = py::str(source).cast<std::string>();
      py::gil_scoped_release release;
      session = Session::createFromFile(what, options, error);
    }
    if (!session)
      throw ModelError(what + ": " + error);
  }

  py::list inputs() const {
    py::list l;
    for (const TensorInfo &t : session->inputs())
      l.append(describe(t, session->nhwcInterface()));
    return l;
  }
  py::list outputs() const {
    py::list l;
    for (const TensorInfo &t : session->outputs())
      l.append(describe(t, session->nhwcInterface()));
    return l;
  }
  std::string backend() const { return session->backend(); }

  /// One array per input, in the model's order; returns the outputs in
  /// theirs (float32, or int32 indices).
  py::list run(const std::vector<py::array> &arrays) {
    const std::vector<TensorInfo> &ins = session->inputs();
    if (arrays.size() != ins.size())
      throw py::value_error("the model has " + std::to_string(ins.size()) +
                            " input(s), got " + std::to_string(arrays.size()));
    std::vector<py::array> kept;
    std::vector<ConstTensorView> in;
    for (size_t i = 0; i < ins.size(); ++i) {
      const py::array &a = arrays[i];
      const TensorInfo &t = ins[i];
      const bool int8 = t.dtype == DType::Int8;
      if (!a.dtype().is(int8 ? py::dtype::of<int8_t>()
                             : py::dtype::of<float>())) {
        throw py::type_error("input '" + t.name + "': expected " +
                             dtypeName(t.dtype) + ", got " +
                             std::string(py::str(a.dtype())) +
                             (int8 ? " " + quantizeHint(t) : std::string()));
      }
      std::vector<int64_t> shape(a.shape(), a.shape() + a.ndim());
      if (shape != t.shape) {
        std::string hint;
        if (t.shape.size() == 4 && session->nhwcInterface())
          hint = " (the .tflite interface is NHWC: from NCHW, "
                 "x.transpose(0, 2, 3, 1))";
        throw py::value_error("input '" + t.name + "': expected shape " +
                              shapeText(t.shape) + ", got " +
                              shapeText(shape) + hint);
      }
      if (int8) {
        auto c = py::array_t<int8_t, py::array::c_style>::ensure(a);
        in.emplace_back(c.data(), size_t(t.numElements()));
        kept.push_back(std::move(c));
      } else {
        auto c = py::array_t<float, py::array::c_style>::ensure(a);
        in.emplace_back(c.data(), size_t(t.numElements()));
        kept.push_back(std::move(c));
      }
    }
    std::vector<py::array> outs;
    std::vector<TensorView> out;
    for (const TensorInfo &t : session->outputs()) {
      if (t.dtype == DType::Int8) {
        py::array_t<int8_t> o(t.shape);
        out.emplace_back(o.mutable_data(), size_t(t.numElements()));
        outs.push_back(o);
      } else if (t.dtype == DType::Int32) {
        py::array_t<int32_t> o(t.shape);
        out.emplace_back(o.mutable_data(), size_t(t.numElements()));
        outs.push_back(o);
      } else {
        py::array_t<float> o(t.shape);
        out.emplace_back(o.mutable_data(), size_t(t.numElements()));
        outs.push_back(o);
      }
    }
    std::string error;
    bool ok;
    {
      py::gil_scoped_release release;
      ok = session->run(in, out, error);
    }
    if (!ok)
      throw ModelError(error);
    py::list result;
    for (py::array &o : outs)
      result.append(o);
    return result;
  }

private:
  py::bytes bytes; ///< the model, when given as bytes (read in place)
  std::unique_ptr<Session> session;
};

} // namespace

PYBIND11_MODULE(_runtime, m) {
  m.doc() = "mobileone's runtime: run a .tflite written by mobileone-compile";
  py::register_exception<ModelError>(m, "ModelError", PyExc_RuntimeError);
  py::class_<PySession>(m, "Session")
      .def(py::init<const py::object &, int, bool>(), py::arg("source"),
           py::arg("threads") = 1, py::arg("reference") = false)
      .def_property_readonly("inputs", &PySession::inputs)
      .def_property_readonly("outputs", &PySession::outputs)
      .def_property_readonly("backend", &PySession::backend)
      .def("run", &PySession::run, py::arg("arrays"));
}
