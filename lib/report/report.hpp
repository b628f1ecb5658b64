// `depthscale report`: one Markdown document a researcher reads top to bottom — what was run (job,
// grid, steps, commit, cost), the study's published numbers beside ours with a verdict, the α
// tables, and every figure the files support (drawn by plot/ beside the document).
#pragma once

#include <cmath>
#include <optional>
#include <string>
#include <vector>

#include "error/error.hpp"

namespace depthscale::report {

// Anything that stops the report; the message names the file (and line) concerned.
class ReportError : public depthscale::Error {
 public:
  using depthscale::Error::Error;
};

// ---- the study's published values (jobs/paper/published.yaml) --------------------------------

enum class Relation { Approx, Above, Below };

// One published number or claim, and which of our results it applies to.
struct PublishedValue {
  std::string id, quantity, claim, source;
  Relation relation = Relation::Approx;
  double value = 0;
  double se = 0;         // the paper's SE (0: none given)
  double tolerance = 0;  // absolute, for numbers without an SE (0: none)
  // match: absent keys match anything.
  bool has_rho = false, has_temperature = false, has_depth_offset = false;
  double rho = 0, temperature = 0, depth_offset = 0;
  std::string loss, head, block;  // "" matches any
  long long min_steps = 0, teacher_depth = 0;
  int line = 0;  // where the entry starts in the file (1-based)
};

// The quantities an entry may name (published.yaml's `quantity`).
const std::vector<std::string>& known_quantities();

// Reads and checks the file: every error names the file, the line and the key.
std::vector<PublishedValue> load_published(const std::string& path);

// ---- our numbers and the comparison ------------------------------------------------------------

// One number of ours that published values of the same quantity may be compared with.
struct Observation {
  std::string quantity;
  std::string where;             // "laptop.h5: ρ = 0, T = 1" (Markdown)
  double value = NAN, se = NAN;  // se NaN: no standard error
  std::string se_kind;           // "SEM over 3 replicates", "fit SE", ...
  // What the entry's match compares with (NaN / "" / 0: not applicable).
  double rho = NAN, temperature = NAN, depth_offset = NAN;
  std::string loss, head, block;
  long long steps = 0, teacher_depth = 0;
  // false beyond the study's settings (a student of another width than its teacher, inputs of a
  // lower dimension, teacher groups strictly between the ρ extremes): no published value applies.
  bool study_setting = true;
};

enum class Verdict { Consistent, NotConsistent, NoError, NotRun };
const char* verdict_text(Verdict v);

struct Comparison {
  PublishedValue published;
  std::optional<Observation> ours;  // none: not run
  Verdict verdict = Verdict::NotRun;
  std::string detail;  // "Δ = +0.12 (0.8 SE)"
};

// Whether `ours` is what entry `p` speaks about (same quantity, every match key agrees; numbers
// to 1e-9 relative).
bool matches(const PublishedValue& p, const Observation& ours);

// The verdict for one pair. SE: √(ours² + paper²) (either may be absent). approx: |Δ| ≤ 2 SE
// (+ tolerance); above/below: ours − 2 SE > value / ours + 2 SE < value.
Comparison compare(const PublishedValue& p, const Observation& ours);

// Every entry against every matching observation; an entry without one gets a `not run` row.
std::vector<Comparison> compare_all(const std::vector<PublishedValue>& published,
                                    const std::vector<Observation>& ours);

// ---- the document ------------------------------------------------------------------------------

struct ReportOptions {
  std::vector<std::string> files;  // sweep files (toy or probe)
  std::string out_dir;             // the document and its figures; created
  std::string published;           // the published values (jobs/paper/published.yaml)
  std::string scaling_csv;         // optional: the Chinchilla data, for the §3 fit
  std::string shapes_csv;          // optional: model shapes beside the fit's optimum
  std::string gnuplot;             // as plot::PlotOptions::gnuplot
  std::string command_line;        // how the report was asked for, quoted in it
};

struct ReportResult {
  std::string document;  // path of report.md
  int figures = 0;
  std::vector<Comparison> comparisons;
  std::vector<Observation> observations;
};

// Reads every file (fits a toy file without /fits first, as `depthscale reduce` would, and says
// so), draws the figures into out_dir, and writes out_dir/report.md. Throws ReportError.
ReportResult write_report(const ReportOptions& options);

}  // namespace depthscale::report
