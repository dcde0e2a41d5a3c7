// Core errors as Python exceptions: one mapping from the core's error kinds to Python classes, used by the
// exception translator (a single call that throws) and for the per-item records of batch calls.
#pragma once

#include <pybind11/pybind11.h>

#include <vector>

#include "fastimg/sources.hpp"

namespace fastimg::bind {

namespace py = pybind11;

// OSError(errno, strerror, path) for Io (Python picks FileNotFoundError, PermissionError, ...), DecodeError
// for Decode, ValueError for Invalid. `path` names the file for Io errors.
py::object python_error(ItemError::Kind kind, int error_number, const std::string& message, const std::string& path);

// [(position, message, exception)] for a batch call's failed items.
py::list errors_to_python(const std::vector<ItemError>& errors);

}  // namespace fastimg::bind
