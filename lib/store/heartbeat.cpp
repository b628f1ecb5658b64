// The run's heartbeat beside a sweep file (FILE.h5.ckpt/heartbeat): its one writer and reader.
// A small text file of "key value" lines, replaced atomically, so `status` can tell a running
// sweep from a stalled or a dead one without touching the HDF5 file.
#include <cstdlib>
#include <filesystem>
#include <sstream>

#include "store/files.hpp"
#include "store/store.hpp"

namespace depthscale::store {

namespace {
constexpr const char* kFormat = "depthscale-heartbeat";
constexpr int kVersion = 1;

std::string heartbeat_path(const std::string& sweep_path) {
  return sweep_path + ".ckpt/heartbeat";
}
}  // namespace

void write_heartbeat(const std::string& sweep_path, const Heartbeat& h) {
  std::ostringstream s;
  s.precision(17);
  s << "format " << kFormat << " " << kVersion << "\n"
    << "state " << h.state << "\n"
    << "host " << h.host << "\n"
    << "pid " << h.pid << "\n"
    << "unix_time " << h.unix_time << "\n"
    << "every_seconds " << h.every_seconds << "\n"
    << "done " << h.done << "\n"
    << "total " << h.total << "\n"
    << "rate " << h.rate << "\n"
    << "unit " << h.unit << "\n";
  const std::string text = s.str();
  std::error_code ec;
  std::filesystem::create_directories(sweep_path + ".ckpt", ec);  // a probe run's may not exist yet
  write_file_atomically(heartbeat_path(sweep_path), std::vector<char>(text.begin(), text.end()));
}

std::optional<Heartbeat> read_heartbeat(const std::string& sweep_path) {
  const std::string path = heartbeat_path(sweep_path);
  std::vector<char> bytes;
  try {
    bytes = read_bytes(path);
  } catch (const StoreError&) {
    return std::nullopt;  // no run has written one (or it is being replaced: read it next time)
  }
  std::istringstream in(std::string(bytes.begin(), bytes.end()));
  Heartbeat h;
  std::string key, format;
  int version = 0;
  if (!(in >> key >> format >> version) || key != "format" || format != kFormat ||
      version != kVersion)
    throw StoreError(path + ": not a depthscale heartbeat (format " + std::to_string(kVersion) +
                     " expected)");
  while (in >> key) {
    if (key == "state")
      in >> h.state;
    else if (key == "host")
      in >> h.host;
    else if (key == "pid")
      in >> h.pid;
    else if (key == "unix_time")
      in >> h.unix_time;
    else if (key == "every_seconds")
      in >> h.every_seconds;
    else if (key == "done")
      in >> h.done;
    else if (key == "total")
      in >> h.total;
    else if (key == "rate")
      in >> h.rate;
    else if (key == "unit")
      in >> h.unit;
    else
      std::getline(in, key);  // a key of a later version: skip its line
    if (!in) throw StoreError(path + ": unreadable value of '" + key + "'");
  }
  return h;
}

}  // namespace depthscale::store
