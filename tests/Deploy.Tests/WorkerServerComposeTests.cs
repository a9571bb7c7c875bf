using System.Diagnostics;
using Reference.Deploy.Tests.Support;

namespace Reference.Deploy.Tests;

/// <summary>
/// What the worker server's files promise (docs/deploy-vds.md, "Add a worker server"), read from the files and from
/// what make-worker-server-secrets.sh writes; WorkerServerOnPodmanTests runs them.
/// </summary>
public sealed class WorkerServerComposeTests
{
    private static readonly Dictionary<string, string> Variables = new()
    {
        ["STORAGE_URL"] = "http://10.0.0.1:9000",
        ["PRIVATE_ADDRESS"] = "10.0.0.1",
    };

    private readonly ComposeFile worker = ComposeFile.Load(Path.Combine(ComposeFile.DeployDirectory, "compose.worker-server.yaml"), Variables);
    private readonly ComposeFile mainServer = ComposeFile.Load(Path.Combine(ComposeFile.DeployDirectory, "compose.main-server.yaml"), Variables);

    [Fact]
    public void The_worker_server_runs_only_workers_with_their_broker_redis_and_storage_secrets_and_nothing_else()
    {
        var single = ComposeFile.Load(Variables).Services["imageworker"];

        var imageworker = Assert.Single(worker.Services.Values);
        Assert.Equal("imageworker", imageworker.Name);
        Assert.Equal(single.Image, imageworker.Image);
        Assert.Equal(single.MemoryLimit, imageworker.MemoryLimit);
        Assert.True(imageworker.ReadOnlyRootFilesystem);
        Assert.Empty(imageworker.Ports);
        Assert.Empty(imageworker.Volumes);
        Assert.Empty(worker.NamedVolumes);
        Assert.Equal(["link"], imageworker.Networks);
        // No database credential: what the main server's workers hold, with the storage keys and the CA instead of the volume.
        Assert.Equal(
            ["ConnectionStrings__cache", "ConnectionStrings__messaging", "Storage__S3__AccessKey", "Storage__S3__SecretKey", "tls-ca"],
            imageworker.Secrets.Select(s => s.Target).Order(StringComparer.Ordinal));
        Assert.Equal("S3", imageworker.Environment["Storage__Kind"]);
        Assert.Equal("http://10.0.0.1:9000", imageworker.Environment["Storage__S3__ServiceUrl"]);
        Assert.Equal("/run/secrets/tls-ca", imageworker.Environment["SSL_CERT_FILE"]);
    }

    [Fact]
    public void The_main_server_publishes_only_the_tls_listeners_and_s3_and_only_on_its_private_address()
    {
        var published = mainServer.Services.Values.SelectMany(s => s.Ports.Select(p => (s.Name, Port: p))).ToList();

        Assert.Equal(
            [("cache", "10.0.0.1:6380:6380"), ("messaging", "10.0.0.1:5671:5671"), ("storage", "10.0.0.1:9000:9000")],
            published.OrderBy(p => p.Name, StringComparer.Ordinal));
        Assert.DoesNotContain("mysql", mainServer.Services.Keys);
        Assert.All(["uploadapi-1", "uploadapi-2", "imageworker", "gateway"], name =>
            Assert.Equal("S3", mainServer.Services[name].Environment["Storage__Kind"]));
        Assert.Throws<InvalidOperationException>(() =>
            ComposeFile.Load(Path.Combine(ComposeFile.DeployDirectory, "compose.main-server.yaml")).Services["messaging"].Ports);
    }

    [Fact]
    public void The_worker_secrets_dial_the_tls_ports_as_imageworker_and_the_certificate_names_the_private_address()
    {
        var directory = Directory.CreateTempSubdirectory("storefront-worker-secrets-").FullName;
        try
        {
            Run("sh", Path.Combine(ComposeFile.DeployDirectory, "make-secrets.sh"), directory);
            Run("sh", Path.Combine(ComposeFile.DeployDirectory, "make-worker-server-secrets.sh"), directory, "10.0.0.1");
            string Read(string name) => File.ReadAllText(Path.Combine(directory, name));
            var workerFiles = Directory.GetFiles(Path.Combine(directory, "worker-server")).Select(Path.GetFileName).Order(StringComparer.Ordinal);

            Assert.Equal(worker.Secrets.Keys.Order(StringComparer.Ordinal), workerFiles);
            Assert.Equal($"amqps://imageworker:{Read("messaging-imageworker-password")}@10.0.0.1:5671", Read("worker-server/imageworker-messaging"));
            Assert.Equal($"10.0.0.1:6380,user=imageworker,password={Read("cache-imageworker-password")},ssl=true", Read("worker-server/imageworker-cache"));
            Assert.Equal(Read("storage-secret-key"), Read("worker-server/storage-secret-key"));
            Assert.DoesNotContain("tls-ca.key", workerFiles);
            Assert.Contains(": OK", Run("openssl", "verify", "-CAfile", Path.Combine(directory, "tls-ca"), Path.Combine(directory, "tls-cert")));
            Assert.Contains("IP Address:10.0.0.1", Run("openssl", "x509", "-noout", "-ext", "subjectAltName", "-in", Path.Combine(directory, "tls-cert")));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    private static string Run(string file, params string[] arguments)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEnd();
        var errors = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', arguments)} exited {process.ExitCode}: {errors}");
        return output;
    }
}
