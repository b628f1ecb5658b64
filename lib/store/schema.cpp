// The table of units and descriptions of every dataset depthscale writes, and the walks that put
// them on datasets and check that a file has them.
#include "store/schema.hpp"

#include <spdlog/spdlog.h>

#include <cstring>

#include "store/detail.hpp"

namespace depthscale::store {

namespace {

// What a toy loss measures, by its kind (toy::TaskResult::loss). {L} in an entry's units stands for
// `units`, {L2} for `squared` (a residual sum of squares), {loss} in its description for `what`.
struct LossKind {
  const char* kind;
  const char* units;
  const char* squared;
  const char* what;
};
constexpr LossKind kLosses[] = {
    {"kl", "nats", "nats^2",
     "KL(teacher ‖ student) of the output distributions, mean over the batch's inputs"},
    {"mse_logits", "nats^2", "nats^4",
     "mean squared error of the student's logits against the teacher's (logits are in nats)"},
    {"mse_features", "1", "1",
     "mean squared error of the student's RMS-normalised final features against the teacher's"},
    // Results written before the kind was recorded: the job's train.loss tells which it is.
    {"", "nats|nats^2|1", "nats^2|nats^4|1",
     "the job's train.loss (kl: nats; mse of logits: nats^2; mse of features, head none: 1)"},
};

struct Entry {
  std::vector<std::string> patterns;  // in-file paths; * matches one group name
  const char* units;
  const char* description;
};

// Per-site arrays of a probed model: finalised (/probe/<model>/), in a batch of the sweep file
// (/probe/<model>/batches/<batch>/) and in a batch's image (/<batch>/, the sidecar files and what
// workers send).
std::vector<std::string> per_site(const std::string& name) {
  return {"/probe/*/" + name, "/probe/*/batches/*/" + name, "/*/" + name};
}

// THE table. A dataset written without an entry here is an error in the writer that wrote it.
const std::vector<Entry>& table() {
  static const std::vector<Entry> entries = [] {
    std::vector<Entry> e = {
        // ---- toy tasks (/tasks/<key>/, also a task result image) and their checkpoints (root
        // of <sweep>.ckpt/tasks/<key>.h5)
        {{"/tasks/*/train_loss", "/train_loss"},
         "{L}",
         "training loss on each step's batch, before that step's update: {loss}"},
        {{"/tasks/*/eval_step", "/eval_step"},
         "steps",
         "updates done when the test loss was evaluated (one entry per evaluation)"},
        {{"/tasks/*/test_loss", "/test_loss"},
         "{L}",
         "test loss on fresh batches at each evaluated step (eval_step): {loss}"},
        {{"/tasks/*/hidden/theta", "/teachers/*/hidden/theta"},
         "radians",
         "angle between consecutive hidden states h_l and h_(l+1) of each probe input, "
         "l = 0..depth-1"},
        {{"/tasks/*/hidden/theta_dh", "/teachers/*/hidden/theta_dh"},
         "radians",
         "angle between consecutive updates dh_l = h_l - h_(l-1) and dh_(l+1) of each probe "
         "input, l = 1..depth-1"},
        {{"/tasks/*/hidden/norms", "/teachers/*/hidden/norms"},
         "1",
         "norm ‖h_l‖ of each probe input's hidden state, l = 0..depth (h_0 = RMSNorm(input))"},
        {{"/params"}, "1", "the student's flat parameter buffer after `step` updates"},
        {{"/adam_m"}, "1", "Adam's first-moment estimate of each parameter"},
        {{"/adam_v"}, "1", "Adam's second-moment estimate of each parameter"},
        // ---- depth fits (depthscale reduce)
        {{"/fits/*/step", "/fits_summary/*/step"},
         "steps",
         "the evaluated step whose test losses this entry fits (the last: the final fit)"},
        {{"/fits/*/n_points"}, "1", "number of depths (points) in the fit at this step"},
        {{"/fits/*/alpha"},
         "1",
         "depth exponent alpha of L(depth) = c*(depth - depth_offset)^-alpha + L0 (NaN: no fit)"},
        {{"/fits/*/alpha_se"}, "1", "standard error of alpha (/fits attribute standard_errors)"},
        {{"/fits/*/c"},
         "{L}",
         "coefficient c of the depth fit: the loss above L0 at depth - "
         "depth_offset = 1; loss: {loss}"},
        {{"/fits/*/c_se"}, "{L}", "standard error of c"},
        {{"/fits/*/L0"},
         "{L}",
         "L0 of the depth fit, the loss as depth grows without bound; "
         "loss: {loss}"},
        {{"/fits/*/L0_se"}, "{L}", "standard error of L0 (0 where L0 was held)"},
        {{"/fits/*/rss"}, "{L2}", "residual sum of squares of the depth fit"},
        {{"/fits/*/L0_held"},
         "1",
         "1 where the free fit's L0 fell below L0_floor and L0 was held there, else 0"},
        {{"/fits_summary/*/alpha_mean"},
         "1",
         "mean of alpha over the cell's teacher replicates at this step"},
        {{"/fits_summary/*/alpha_sem"}, "1", "standard error of alpha_mean"},
        {{"/fits_summary/*/n_replicates"},
         "1",
         "number of teacher replicates with a finite alpha at this step (those in alpha_mean)"},
        {{"/fits_summary/*/alpha_pooled"},
         "1",
         "alpha of the weighted fit (weights 1/SEM^2) of the replicate-mean losses per depth"},
        {{"/fits_summary/*/alpha_pooled_se"}, "1", "standard error of alpha_pooled"},
        // ---- LLM probes: per-site arrays (site: a token with a next token; L: layers)
        {per_site("norms"), "1", "norm ‖h_l‖ of each site's hidden state, l = 0..L"},
        {per_site("theta"), "radians", "angle(h_l, h_(l+1)) of each site, l = 0..L-1"},
        {per_site("theta_dh"), "radians",
         "angle(dh_l, dh_(l+1)) of each site, dh_l = h_(l+1) - h_l, l = 0..L-2"},
        {per_site("angle_to_end"), "radians", "angle(h_l, h_L) of each site, l = 0..L-1"},
        {per_site("cross_entropy"), "nats/token",
         "cross-entropy of each site's next token: column L-1 the model's own, column l < L-1 "
         "that of head(final_norm(last_block(h_l)))"},
        {per_site("proj_s"), "1",
         "progress of each site along h_L - h_0: (h_l - h_0).(h_L - h_0) / ‖h_L - h_0‖^2, "
         "l = 0..L"},
        {per_site("token"), "1", "the site's token id (its target is the next site's token)"},
        {per_site("doc"), "1", "the site's document, as its index in the stream"},
        {per_site("position"), "tokens", "the site's 0-based position in its document"},
        {{"/probe/*/batches/*/summary_state", "/*/summary_state"},
         "1",
         "the batch's probe summary state: exact sums, merged into summary/ and pca/ when the "
         "model is finalised"},
        // ---- LLM probes: per-layer summaries and the PCA of the theta vectors
        {{"/probe/*/summary/norms"}, "1", "mean of norms over the sites, per layer l = 0..L"},
        {{"/probe/*/summary/theta"}, "radians", "mean of theta over the sites, per layer"},
        {{"/probe/*/summary/theta_dh"}, "radians", "mean of theta_dh over the sites, per layer"},
        {{"/probe/*/summary/angle_to_end"},
         "radians",
         "mean of angle_to_end over the sites, per layer"},
        {{"/probe/*/summary/cross_entropy"},
         "nats/token",
         "mean of cross_entropy over the sites, per layer"},
        {{"/probe/*/summary/proj_s"}, "1", "mean of proj_s over the sites, per layer"},
        {{"/probe/*/pca/components"},
         "1",
         "principal axes of the sites' theta vectors, one unit row each (row 0: PC1, signed "
         "towards the early-stop trajectory)"},
        {{"/probe/*/pca/explained"},
         "1",
         "fraction of the theta vectors' variance along each principal axis"},
        {{"/probe/*/pca/explained_variance"},
         "radians^2",
         "variance of the theta vectors along each principal axis"},
        {{"/probe/*/pca/mean"}, "radians", "mean theta vector over the sites"},
        {{"/probe/*/pca/early_stop_reference"},
         "radians",
         "the early-stop reference theta trajectory (the older nearest-reference statistic)"},
        {{"/probe/*/pca/even_reference"},
         "radians",
         "the evenly spread reference theta trajectory (the older nearest-reference statistic)"},
        {{"/probe/*/pca/early_stop_by_position"},
         "1",
         "sites counted by row (outside, inside the early-stop cluster) and column (position > "
         "0, position 0)"},
    };
    return e;
  }();
  return entries;
}

std::vector<std::string> components(const std::string& path) {
  std::vector<std::string> out;
  size_t a = 0;
  while (a < path.size()) {
    size_t b = path.find('/', a);
    if (b == std::string::npos) b = path.size();
    if (b > a) out.push_back(path.substr(a, b - a));
    a = b + 1;
  }
  return out;
}

bool matches(const std::vector<std::string>& pattern, const std::vector<std::string>& path) {
  if (pattern.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i)
    if (pattern[i] != "*" && pattern[i] != path[i]) return false;
  return true;
}

void substitute(std::string& text, const std::string& token, const std::string& value) {
  for (size_t at = text.find(token); at != std::string::npos; at = text.find(token, at))
    text.replace(at, token.size(), value), at += value.size();
}

std::string in_file_name(hid_t obj) {
  const ssize_t n = H5Iget_name(obj, nullptr, 0);
  if (n <= 0) return "";
  std::string name(static_cast<size_t>(n) + 1, '\0');
  H5Iget_name(obj, name.data(), name.size());
  name.resize(static_cast<size_t>(n));
  return name;
}

herr_t collect_link(hid_t, const char* name, const H5L_info_t*, void* data) {
  static_cast<std::vector<std::string>*>(data)->emplace_back(name);
  return 0;
}

std::vector<std::string> links(hid_t group, const std::string& where) {
  std::vector<std::string> names;
  detail::check_status(H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, nullptr, collect_link, &names),
                       where + ": cannot list members");
  return names;
}

// The group's `loss` attribute when it has one, else `inherited`.
std::string loss_of(hid_t group, const std::string& where, const std::string& inherited) {
  const htri_t has = H5Aexists(group, kLossAttr);
  if (has <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return inherited;
  }
  return detail::string_attr(group, where, kLossAttr);
}

void set_if_different(hid_t obj, const std::string& where, const char* name,
                      const std::string& value) {
  if (H5Aexists(obj, name) > 0) {
    try {
      if (detail::string_attr(obj, where, name) == value) return;
    } catch (const StoreError&) {
      // not a string: replaced below
    }
  }
  H5Eclear2(H5E_DEFAULT);
  detail::set_string_attr(obj, where, name, value);
}

void describe_one(hid_t dset, const std::string& where, const std::string& loss,
                  Undescribed missing) {
  const std::string path = in_file_name(dset);
  const auto doc = dataset_doc(path, loss);
  if (!doc) {
    const std::string why = where +
                            ": the dataset table (lib/store/schema.cpp) has no units and "
                            "description for " +
                            path + (loss.empty() ? "" : " (loss '" + loss + "')");
    if (missing == Undescribed::Error) throw StoreError(why + ": add its entry");
    spdlog::warn("{}; left without them", why);
    return;
  }
  set_if_different(dset, where, kUnitsAttr, doc->units);
  set_if_different(dset, where, kDescriptionAttr, doc->description);
}

void describe_tree(hid_t group, const std::string& where, Undescribed missing,
                   const std::string& inherited) {
  const std::string loss = loss_of(group, where, inherited);
  for (const std::string& name : links(group, where)) {
    const std::string what = detail::join(where, name);
    Handle obj(detail::check(H5Oopen(group, name.c_str(), H5P_DEFAULT), what + ": cannot open"));
    switch (H5Iget_type(obj.id())) {
      case H5I_GROUP:
        describe_tree(obj.id(), what, missing, loss);
        break;
      case H5I_DATASET:
        describe_one(obj.id(), what, loss, missing);
        break;
      default:
        break;  // named datatypes: not data
    }
  }
}

void find_undescribed(hid_t group, const std::string& where, std::vector<std::string>& out) {
  for (const std::string& name : links(group, where)) {
    const std::string what = detail::join(where, name);
    Handle obj(detail::check(H5Oopen(group, name.c_str(), H5P_DEFAULT), what + ": cannot open"));
    const H5I_type_t type = H5Iget_type(obj.id());
    if (type == H5I_GROUP) find_undescribed(obj.id(), what, out);
    if (type != H5I_DATASET) continue;
    if (H5Aexists(obj.id(), kUnitsAttr) <= 0 || H5Aexists(obj.id(), kDescriptionAttr) <= 0)
      out.push_back(in_file_name(obj.id()));
    H5Eclear2(H5E_DEFAULT);
  }
}

}  // namespace

std::optional<DatasetDoc> dataset_doc(const std::string& path, const std::string& loss) {
  const LossKind* kind = nullptr;
  for (const auto& k : kLosses)
    if (loss == k.kind) kind = &k;
  if (!kind) return std::nullopt;  // a kind this build does not know
  const auto parts = components(path);
  for (const Entry& e : table()) {
    for (const std::string& pattern : e.patterns) {
      if (!matches(components(pattern), parts)) continue;
      DatasetDoc doc{e.units, e.description};
      substitute(doc.units, "{L2}", kind->squared);
      substitute(doc.units, "{L}", kind->units);
      substitute(doc.description, "{loss}", kind->what);
      return doc;
    }
  }
  return std::nullopt;
}

void describe_datasets(Group& g, Undescribed missing, const std::string& loss) {
  describe_tree(g.id(), g.path(), missing, loss);
}

void describe_dataset(Group& g, const std::string& name, const std::string& loss) {
  const std::string what = detail::join(g.path(), name);
  Handle dset(
      detail::check(H5Dopen2(g.id(), name.c_str(), H5P_DEFAULT), what + ": cannot open dataset"));
  describe_one(dset.id(), what, loss_of(g.id(), g.path(), loss), Undescribed::Error);
}

std::vector<std::string> undescribed_datasets(const Group& g) {
  std::vector<std::string> out;
  find_undescribed(g.id(), g.path(), out);
  return out;
}

std::optional<DatasetDoc> read_dataset_doc(const Group& g, const std::string& name) {
  const std::string what = detail::join(g.path(), name);
  Handle dset(
      detail::check(H5Dopen2(g.id(), name.c_str(), H5P_DEFAULT), what + ": cannot open dataset"));
  if (H5Aexists(dset.id(), kUnitsAttr) <= 0 || H5Aexists(dset.id(), kDescriptionAttr) <= 0) {
    H5Eclear2(H5E_DEFAULT);
    return std::nullopt;
  }
  return DatasetDoc{detail::string_attr(dset.id(), what, kUnitsAttr),
                    detail::string_attr(dset.id(), what, kDescriptionAttr)};
}

}  // namespace depthscale::store
