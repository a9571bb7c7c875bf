using System.Diagnostics;
using System.Net.Sockets;
using Xunit;

namespace Reference.Tests.Support;

/// <summary>
/// A real S3-compatible server (s3rver, from npm) on a free loopback port with one bucket, started with
/// the AppHost's own script (AppHost/LocalServers/s3rver.sh), for <c>Storage:Kind=S3</c> tests.
/// Use it as an xUnit class or collection fixture.
/// </summary>
public sealed class S3Server : IAsyncLifetime
{
    /// <summary>s3rver's fixed keys; it accepts any well-signed request with them.</summary>
    public const string AccessKey = "S3RVER";
    public const string SecretKey = "S3RVER";
    public const string Bucket = "images";

    private readonly string _root = Directory.CreateTempSubdirectory("reference-s3rver-").FullName;
    private readonly int _port = Loopback.FreePort();
    private Process? _process;

    public string ServiceUrl => $"http://127.0.0.1:{_port}";

    /// <summary><c>Storage:*</c> settings for a service that should use this server.</summary>
    public IReadOnlyDictionary<string, string?> StorageSettings => new Dictionary<string, string?>
    {
        ["Storage:Kind"] = "S3",
        ["Storage:S3:ServiceUrl"] = ServiceUrl,
        ["Storage:S3:Bucket"] = Bucket,
        ["Storage:S3:AccessKey"] = AccessKey,
        ["Storage:S3:SecretKey"] = SecretKey,
    };

    public async Task InitializeAsync()
    {
        Prerequisite.Require(OnPath("node") && OnPath("npm"), "node and npm are not installed (Debian packages nodejs npm), so s3rver cannot run.");
        var start = new ProcessStartInfo("sh")
        {
            ArgumentList = { Path.Combine(RepoPaths.Root, "AppHost", "LocalServers", "s3rver.sh"), Path.Combine(_root, "data"), _port.ToString(), Bucket },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        _process = Process.Start(start) ?? throw new InvalidOperationException("Could not start s3rver.");
        var log = new System.Text.StringBuilder();
        _process.OutputDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        _process.ErrorDataReceived += (_, e) => { lock (log) { log.AppendLine(e.Data); } };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // The first run installs s3rver from npm: give it time.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(180));
        while (!await AcceptsAsync())
        {
            if (_process.HasExited || timeout.IsCancellationRequested)
            {
                string output;
                lock (log) { output = log.ToString(); }
                throw new InvalidOperationException($"s3rver did not start (exited: {_process.HasExited}). Output:\n{output}");
            }

            await Task.Delay(200);
        }
    }

    public async Task DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process?.Dispose();
        try
        {
            Directory.Delete(_root, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> AcceptsAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync("127.0.0.1", _port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    private static bool OnPath(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':').Any(dir => File.Exists(Path.Combine(dir, program)));
}
