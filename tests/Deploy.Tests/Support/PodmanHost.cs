using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Deploy.Tests.Support;

/// <summary>
/// Podman as a Debian machine without Docker needs it (docs/deploy-vds.md, "Proven here"): installed
/// with apt when missing and we are root, runc and explicit ulimits in a containers.conf of our own,
/// and the Docker API on a socket for docker-compose. When podman cannot be had or cannot run a
/// container, the test is skipped on a developer's machine and fails in CI (<see cref="Prerequisite"/>).
/// </summary>
public sealed class PodmanHost : IAsyncDisposable
{
    public const string ImagePrefix = "localhost/storefront-test/";

    /// <summary>
    /// Names this checkout (worktree) so two running the test at once share only podman's image store:
    /// each has its own API socket, build folders and service image tag.
    /// </summary>
    public static readonly string CheckoutId =
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(RepoPaths.Root)))[..8];

    // netavark and aardvark-dns by name: they are only recommended, and podman without them falls
    // back to CNI with no DNS, where the services cannot find "mysql" or "cache" by name.
    private static readonly string[] Packages =
        ["podman", "netavark", "aardvark-dns", "buildah", "fuse-overlayfs", "slirp4netns", "uidmap", "runc", "debootstrap", "docker-compose"];

    private readonly Process service;

    private PodmanHost(ITestOutputHelper log, string directory, Process service)
    {
        Directory = directory;
        this.service = service;
        SocketPath = Path.Combine(directory, "podman.sock");
        Shell = new Shell(log, new Dictionary<string, string>
        {
            ["CONTAINERS_CONF"] = Path.Combine(directory, "containers.conf"),
            ["DOCKER_HOST"] = "unix://" + SocketPath,
        });
    }

    /// <summary>Where the configuration, the API socket and build caches live (kept between runs).</summary>
    public string Directory { get; }

    public string SocketPath { get; }

    /// <summary>A shell whose podman and docker-compose use this host's configuration and socket.</summary>
    public Shell Shell { get; }

    public static async Task<PodmanHost> StartAsync(ITestOutputHelper log, CancellationToken cancellationToken)
    {
        Prerequisite.Require(OperatingSystem.IsLinux(), "the podman end-to-end test runs on Linux only.");
        var shell = new Shell(log, new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" });
        var missing = await MissingPackagesAsync(shell, cancellationToken);
        if (missing.Count > 0)
        {
            Prerequisite.Require(Environment.UserName == "root" && OnPath("apt-get"),
                $"{string.Join(", ", missing)} not installed, and only root with apt-get can install them here " +
                $"(apt-get install -y {string.Join(' ', Packages)}).");
            await InstallAsync(shell, cancellationToken);
        }

        var directory = Path.Combine(Path.GetTempPath(), "reference-storefront-deploy-tests-" + CheckoutId);
        System.IO.Directory.CreateDirectory(directory);
        // runc, and explicit ulimits: with the defaults, crun fails here with "setrlimit
        // RLIMIT_NOFILE: Operation not permitted" and then "cgroups in hybrid mode not supported".
        await File.WriteAllTextAsync(Path.Combine(directory, "containers.conf"), """
            [containers]
            default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
            [engine]
            runtime = "runc"
            [network]
            network_backend = "netavark"
            """, cancellationToken);

        var socket = Path.Combine(directory, "podman.sock");
        File.Delete(socket);
        var start = new ProcessStartInfo("podman") { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var argument in new[] { "system", "service", "--time=0", "unix://" + socket })
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["CONTAINERS_CONF"] = Path.Combine(directory, "containers.conf");
        var service = Process.Start(start)!;
        service.BeginErrorReadLine();
        service.BeginOutputReadLine();
        var host = new PodmanHost(log, directory, service);
        try
        {
            var info = await host.Shell.RunAsync("podman", ["info", "--format", "{{.Host.OCIRuntime.Name}} {{.Host.CgroupsVersion}}"], cancellationToken, check: false);
            Prerequisite.Require(info.Succeeded, "podman is installed but does not work here: " + info.Errors.Trim());
            for (var i = 0; i < 100 && !File.Exists(socket); i++)
            {
                await Task.Delay(100, cancellationToken);
            }

            Prerequisite.Require(File.Exists(socket), "podman's Docker API socket did not appear: " + socket);
            return host;
        }
        catch
        {
            await host.DisposeAsync();
            throw;
        }
    }

    public Task<CommandResult> PodmanAsync(CancellationToken cancellationToken, params string[] arguments) =>
        Shell.RunAsync("podman", arguments, cancellationToken);

    public async Task<bool> ImageExistsAsync(string image, CancellationToken cancellationToken) =>
        (await Shell.RunAsync("podman", ["image", "exists", image], cancellationToken, check: false, quiet: true)).Succeeded;

    /// <summary>
    /// Podman schedules health checks with systemd timers; without systemd (as in CI containers)
    /// they never run on their own and compose's condition: service_healthy would wait forever.
    /// This runs them for the containers still starting (or unhealthy), as the timers would.
    /// </summary>
    public async Task RunHealthChecksAsync(string composeProject, CancellationToken cancellationToken)
    {
        while (!cancellationToken.IsCancellationRequested)
        {
            try
            {
                var listed = await Shell.RunAsync("podman",
                    ["ps", "--filter", "label=com.docker.compose.project=" + composeProject, "--format", "{{.ID}} {{.Status}}"],
                    cancellationToken, check: false, quiet: true);
                var waiting = listed.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries)
                    .Where(line => line.Contains("(starting)") || line.Contains("(unhealthy)"))
                    .Select(line => line.Split(' ')[0]);
                await Task.WhenAll(waiting.Select(id =>
                    Shell.RunAsync("podman", ["healthcheck", "run", id], cancellationToken, check: false, quiet: true)));
                await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public ValueTask DisposeAsync()
    {
        if (!service.HasExited)
        {
            service.Kill(entireProcessTree: true);
            service.WaitForExit(5000);
        }

        service.Dispose();
        return ValueTask.CompletedTask;
    }

    private static async Task InstallAsync(Shell shell, CancellationToken cancellationToken)
    {
        var install = new[] { "install", "-y", "-qq" }.Concat(Packages).ToArray();
        var result = await shell.RunAsync("apt-get", install, cancellationToken, check: false);
        if (!result.Succeeded)
        {
            await shell.RunAsync("apt-get", ["update", "-qq"], cancellationToken, check: false);
            result = await shell.RunAsync("apt-get", install, cancellationToken, check: false);
        }

        Prerequisite.Require(result.Succeeded, "podman could not be installed: " + Shell.Tail(result.Errors, 5));
    }

    private static async Task<List<string>> MissingPackagesAsync(Shell shell, CancellationToken cancellationToken)
    {
        if (!OnPath("dpkg-query"))
        {
            return Packages.Where(p => p is "podman" or "debootstrap" or "docker-compose" && !OnPath(p)).ToList();
        }

        var missing = new List<string>();
        foreach (var package in Packages)
        {
            var status = await shell.RunAsync("dpkg-query", ["-W", "-f=${Status}", package], cancellationToken, check: false, quiet: true);
            if (!status.Output.Contains("install ok installed", StringComparison.Ordinal))
            {
                missing.Add(package);
            }
        }

        return missing;
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
        .Append("/usr/sbin").Append("/usr/bin")
        .Any(dir => File.Exists(Path.Combine(dir, program)));
}
