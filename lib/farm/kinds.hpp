// The job kinds `depthscale run` puts on the farm. farm/run.cpp owns what every kind shares (the
// output file and its resume checks, the go/no-go broadcast, the device, the farm, the outcome);
// a kind plans its units from what the file holds, records what comes back and finishes the file.
#pragma once

#include <torch/torch.h>

#include <deque>
#include <memory>
#include <string>

#include "config/job.hpp"
#include "farm/farm.hpp"
#include "farm/run.hpp"
#include "store/store.hpp"

namespace depthscale::farm {

class SweepKind {
 public:
  virtual ~SweepKind() = default;

  // ---- rank 0 -------------------------------------------------------------------------------
  // Checks the job's own inputs (model folders, shards) before the output file is looked at, so a
  // missing input is named even when the file was written by another job.
  virtual void check_inputs() {}
  // Reads what the output holds (`file` is null in a dry run without a file) and plans the units
  // to run. The file, if any, has been recovered and its job checked against this one.
  virtual void plan(store::SweepFile* file, const RunOptions& options, int ranks) = 0;
  // The dry run's table, and the one log line before a real run.
  virtual std::string dry_run_report(int ranks) const = 0;
  virtual std::string summary(int ranks) const = 0;
  virtual std::deque<UnitTicket> tickets() = 0;
  virtual UnitSource& source() = 0;
  // After the farm: the file's last writes (teacher probes, compaction) and the outcome.
  virtual RunOutcome finish(const FarmReport& report) = 0;

  // ---- every rank ---------------------------------------------------------------------------
  virtual bool cuda() const = 0;
  virtual std::string device_key() const = 0;  // "run.device" | "probe.device", for messages
  virtual std::unique_ptr<UnitRunner> runner(torch::Device device, int rank) = 0;
  // The farm's settings of this kind: names, order, the deadline guard's rate and margin.
  virtual void configure(CoordinatorOptions& options) const = 0;
};

// Every rank builds its kind from the same job (a bad probe section throws config::JobError).
std::unique_ptr<SweepKind> make_toy_sweep(const config::Job& job, const std::string& out,
                                          const RunOptions& options);
std::unique_ptr<SweepKind> make_probe_sweep(const config::Job& job, const std::string& out,
                                            const RunOptions& options);

}  // namespace depthscale::farm
