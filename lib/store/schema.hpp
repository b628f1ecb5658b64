// The units and one-line description of every dataset depthscale writes to HDF5: one table
// (schema.cpp), read by every writer, which puts them on each dataset as the string attributes
// `units` and `description`, so that a file explains itself to h5py users.
//
// Units: "nats", "nats/token", "radians", "steps", "tokens", "1" (dimensionless: ratios, counts,
// indices, flags), and powers of them ("nats^2", "radians^2"). The toy's losses measure what the
// job's train.loss says (toy/result.hpp, TaskResult::loss); the table takes that from the `loss`
// attribute of the task group (or of /fits, or of a checkpoint's root) above the dataset.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace depthscale::store {

inline constexpr const char* kUnitsAttr = "units";
inline constexpr const char* kDescriptionAttr = "description";
// The attribute naming the loss kind that the table's loss-valued entries resolve against.
inline constexpr const char* kLossAttr = "loss";

// The attributes of /tasks/<key> (and, but student_seed and input_stream, of /teachers/<key>)
// that record what its random draws derive from (toy::TaskSeeds).
inline constexpr const char* kSeedAttr = "seed";
inline constexpr const char* kStudentSeedAttr = "student_seed";
inline constexpr const char* kTeacherStreamAttr = "teacher_stream";
inline constexpr const char* kInputStreamAttr = "input_stream";
inline constexpr const char* kProbeStreamAttr = "probe_stream";

struct DatasetDoc {
  std::string units, description;
};

// The table's entry for the dataset at `path` inside its file ("/tasks/k/test_loss"; a table
// pattern's * matches one group name), with the loss kind `loss` ("" when not recorded); nullopt
// when the table has no entry.
std::optional<DatasetDoc> dataset_doc(const std::string& path, const std::string& loss = "");

// What describe_datasets does with a dataset the table lacks: this build's writers fail (a new
// dataset needs its entry); copies of files another build wrote (merge, recovery) are logged
// and left as they are.
enum class Undescribed { Error, Warn };

// Puts `units` and `description` from the table on every dataset under `g`, recursively (an
// attribute that already says the same is left alone). The loss kind is the nearest `loss`
// attribute on `g` or a group between it and the dataset, else `loss`. Throws StoreError naming
// the dataset (Undescribed::Error) when the table has no entry for it.
void describe_datasets(Group& g, Undescribed missing = Undescribed::Error,
                       const std::string& loss = "");
// The same for one dataset `name` of `g` (no recursion).
void describe_dataset(Group& g, const std::string& name, const std::string& loss = "");

// The in-file paths of the datasets under `g` (recursively) that lack a `units` or a
// `description` attribute: the check of a whole file.
std::vector<std::string> undescribed_datasets(const Group& g);

// The units and description attributes of dataset `name` of `g` (nullopt when either is absent).
std::optional<DatasetDoc> read_dataset_doc(const Group& g, const std::string& name);

}  // namespace depthscale::store
