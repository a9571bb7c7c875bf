using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Reference.Deploy.Tests.Support;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Deploy.Tests;

/// <summary>
/// Workers on a second server, with podman networks standing for the two machines: the main server's stack
/// (deploy/compose.yaml + compose.main-server.yaml: gateway, APIs, MariaDB, Redis, RabbitMQ with its TLS listener, an
/// S3 server) runs no worker; deploy/compose.worker-server.yaml runs the workers as another project, attached only to
/// the link network, on which only the broker, Redis and the S3 server are. Uploads become Ready through them, and a
/// link cut for 30 s loses nothing. docs/deploy-vds.md, "Add a worker server".
/// </summary>
[Collection(PodmanCollection.Name)]
public sealed class WorkerServerOnPodmanTests(ITestOutputHelper output)
{
    private const string Photo = "kite-2560x1600.jpg";
    private const int UploadsDuringTheCut = 4;
    private static readonly TimeSpan Cut = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task Uploads_on_the_main_server_are_processed_by_workers_on_a_second_server_and_wait_out_a_30_s_cut_link()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var ct = timeout.Token;
        var phases = new Phases(output);

        await using var podman = await phases.RunAsync("container toolchain", () => PodmanHost.StartAsync(output, ct));
        var images = new TestImages(podman);
        await phases.RunAsync("debian base image (debootstrap; kept by tag)", () => images.EnsureBaseImageAsync(ct));
        var smoke = await podman.Shell.RunAsync("podman", ["run", "--rm", TestImages.BaseImage, "true"], ct, check: false);
        Prerequisite.Require(smoke.Succeeded, "podman cannot run a container here: " + smoke.Errors.Trim());
        var (runtime, mysql, redis, rabbitmq, s3) = await phases.RunAsync("stand-in images (kept by tag)", async () => (
            await images.EnsureRuntimeImageAsync(ct),
            await images.EnsureStandInAsync("mysql", ct),
            await images.EnsureStandInAsync("redis", ct),
            await images.EnsureStandInAsync("rabbitmq", ct),
            await images.EnsureS3StandInAsync(ct)));
        await phases.RunAsync("service images (once per run)", () => images.EnsureServiceImagesAsync(runtime, ct));

        var project = "sfws" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var link = project + "-link";
        var port = Loopback.FreePort();
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        var secrets = Path.Combine(podman.Directory, project + "-secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "admin-key"), adminKey, ct);
        // The stand-in S3 server's fixed keys, kept by the script as a chosen password is.
        await File.WriteAllTextAsync(Path.Combine(secrets, "storage-access-key"), "S3RVER", ct);
        await File.WriteAllTextAsync(Path.Combine(secrets, "storage-secret-key"), "S3RVER", ct);
        await podman.Shell.RunAsync("sh", [Path.Combine(ComposeFile.DeployDirectory, "make-secrets.sh"), secrets], ct);
        // On two machines the workers dial one address; here the broker, Redis and S3 are three containers on the link.
        await podman.Shell.RunAsync("sh", [Path.Combine(ComposeFile.DeployDirectory, "make-worker-server-secrets.sh"), secrets, "messaging"], ct);
        var workerSecrets = Path.Combine(secrets, "worker-server");
        var cache = Path.Combine(workerSecrets, "imageworker-cache");
        await File.WriteAllTextAsync(cache, (await File.ReadAllTextAsync(cache, ct)).Replace("messaging:6380", "cache:6380"), ct);

        var mainEnv = await WriteEnvAsync(podman, project + ".env", new()
        {
            ["SECRETS_DIR"] = secrets,
            ["GATEWAY_BIND"] = "127.0.0.1",
            ["GATEWAY_PORT"] = port.ToString(),
            ["STOREFRONT_IMAGE_PREFIX"] = PodmanHost.ImagePrefix,
            ["STOREFRONT_TAG"] = TestImages.ServiceTag,
            ["MYSQL_IMAGE"] = mysql,
            ["REDIS_IMAGE"] = redis,
            ["RABBITMQ_IMAGE"] = rabbitmq,
            ["S3_IMAGE"] = s3,
            ["MYSQL_SERVER_VERSION"] = "10.11.0-mariadb",
            // No worker on the main server: every upload must go through the second one.
            ["IMAGEWORKER_REPLICAS"] = "0",
            // A loopback address of its own, so the published private ports clash with nothing else on this machine.
            ["PRIVATE_ADDRESS"] = $"127.{RandomNumberGenerator.GetInt32(1, 255)}.{RandomNumberGenerator.GetInt32(1, 255)}.{RandomNumberGenerator.GetInt32(2, 255)}",
            ["LINK_NETWORK"] = link,
        }, ct);
        var workerEnv = await WriteEnvAsync(podman, project + "-worker.env", new()
        {
            ["SECRETS_DIR"] = workerSecrets,
            ["STOREFRONT_IMAGE_PREFIX"] = PodmanHost.ImagePrefix,
            ["STOREFRONT_TAG"] = TestImages.ServiceTag,
            ["STORAGE_URL"] = "http://storage:9000",
            ["IMAGEWORKER_REPLICAS"] = "2",
        }, ct);
        var main = new ComposeStack(podman, project, mainEnv,
            [ComposeFile.FilePath, Path.Combine(ComposeFile.DeployDirectory, "compose.main-server.yaml")]);
        // The private network between the machines is the main server's link network itself: the worker project joins it.
        var joinLink = Path.Combine(podman.Directory, project + "-worker.override.yaml");
        await File.WriteAllTextAsync(joinLink, $"networks:\n  link:\n    name: {link}\n    external: true\n", ct);
        var workers = new ComposeStack(podman, project + "w", workerEnv, [Path.Combine(ComposeFile.DeployDirectory, "compose.worker-server.yaml"), joinLink]);

        using var stopHealthChecks = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var healthChecks = Task.WhenAll(podman.RunHealthChecksAsync(main.Project, stopHealthChecks.Token),
            podman.RunHealthChecksAsync(workers.Project, stopHealthChecks.Token));
        try
        {
            await phases.RunAsync("main server: compose up", () => main.UpAsync(ct));
            // Every container but the S3 server (no health check in its image) and the one-shot set-ups: 4 APIs, gateway, 3 servers.
            await phases.RunAsync("main server: healthy", () => WaitUntilAsync(async () =>
                (await main.ContainersAsync(ct)).Count(c => c.Health == "healthy") == 8, TimeSpan.FromMinutes(4), ct));
            await phases.RunAsync("worker server: compose up", () => workers.UpAsync(ct));
            await phases.RunAsync("worker server: 2 workers healthy", () => workers.WaitUntilHealthyAsync(2, TimeSpan.FromMinutes(2), ct));
            var workerContainers = (await workers.ContainersAsync(ct)).Select(c => c.Name).ToList();

            await phases.RunAsync("the workers' broker connections are TLS, as imageworker", async () =>
            {
                var connections = await main.ExecAsync("messaging", "rabbitmqctl -q list_connections user ssl port", ct);
                output.WriteLine(connections);
                var theirs = connections.Split('\n').Where(l => l.StartsWith("imageworker", StringComparison.Ordinal)).ToList();
                Assert.NotEmpty(theirs);
                Assert.All(theirs, l => Assert.Equal(["imageworker", "true", "5671"], l.Split('\t', StringSplitOptions.TrimEntries)));
            });
            await phases.RunAsync("the worker server reaches the broker, not MariaDB", async () =>
            {
                var mysqlAddress = (await podman.Shell.RunAsync("podman", ["inspect", "--format",
                    "{{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}", (await main.ServiceContainersAsync("mysql", ct))[0]], ct)).Output.Trim();
                var probe = await podman.Shell.RunAsync("podman", ["exec", workerContainers[0], "bash", "-c",
                    $"getent hosts mysql || echo no-name; timeout 3 bash -c 'echo >/dev/tcp/{mysqlAddress}/3306' 2>/dev/null && echo mysql-open || echo mysql-closed; " +
                    "timeout 3 bash -c 'echo >/dev/tcp/messaging/5671' && echo broker-open"], ct, check: false);
                Assert.Contains("no-name", probe.Output);
                Assert.Contains("mysql-closed", probe.Output);
                Assert.Contains("broker-open", probe.Output);
            });

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
            var productId = await phases.RunAsync("create a product", () => StackOnPodmanTests.CreateProductAsync(http, ct));
            var first = await phases.RunAsync("an upload becomes Ready through the second server", async () =>
            {
                var id = await UploadAsync(http, productId, ct);
                await WaitUntilAsync(async () => await StatusAsync(http, id, ct) == "Ready", TimeSpan.FromMinutes(2), ct);
                return id;
            });
            await phases.RunAsync("its variants are served from the bucket", () => StackOnPodmanTests.AssertProductHasPhotoAsync(http, productId, first, ct));

            var waiting = await phases.RunAsync($"cut the link for {Cut.TotalSeconds:0} s, {UploadsDuringTheCut} uploads meanwhile", async () =>
            {
                foreach (var worker in workerContainers)
                {
                    await podman.Shell.RunAsync("podman", ["network", "disconnect", link, worker], ct);
                }

                var cutAt = DateTime.UtcNow;
                var ids = new List<string>();
                for (var i = 0; i < UploadsDuringTheCut; i++)
                {
                    ids.Add(await UploadAsync(http, productId, ct));
                }

                await Task.Delay(Cut - (DateTime.UtcNow - cutAt), ct);
                var statuses = await Task.WhenAll(ids.Select(id => StatusAsync(http, id, ct)));
                // Nothing can process them while the workers are cut off: they wait.
                Assert.All(statuses, s => Assert.Equal("Pending", s));
                foreach (var worker in workerContainers)
                {
                    await podman.Shell.RunAsync("podman", ["network", "connect", link, worker], ct);
                }

                return ids;
            });
            await phases.RunAsync("after the link is back, every upload becomes Ready (the workers notice the dead connection within two 10 s heartbeats and reconnect)", async () =>
            {
                await WaitUntilAsync(async () => (await Task.WhenAll(waiting.Select(id => StatusAsync(http, id, ct)))).All(s => s == "Ready"),
                    TimeSpan.FromMinutes(4), ct);
                foreach (var id in waiting)
                {
                    await StackOnPodmanTests.AssertProductHasPhotoAsync(http, productId, id, ct);
                }
            });
        }
        catch (Exception)
        {
            using var postMortem = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            output.WriteLine(await main.PostMortemAsync(40, postMortem.Token));
            output.WriteLine(await workers.PostMortemAsync(40, postMortem.Token));
            throw;
        }
        finally
        {
            await stopHealthChecks.CancelAsync();
            await healthChecks;
            using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await phases.RunAsync("tear down both servers", async () =>
            {
                try
                {
                    await workers.DownAsync(volumes: true, cleanup.Token);
                    await main.DownAsync(volumes: true, cleanup.Token);
                }
                finally
                {
                    await workers.RemoveLeftoversAsync(cleanup.Token);
                    await main.RemoveLeftoversAsync(cleanup.Token);
                    await podman.Shell.RunAsync("podman", ["network", "rm", "-f", link], cleanup.Token, check: false);
                    File.Delete(mainEnv);
                    File.Delete(workerEnv);
                    File.Delete(joinLink);
                    Directory.Delete(secrets, recursive: true);
                }
            });
            phases.Report();
        }
    }

    private static async Task<string> WriteEnvAsync(PodmanHost podman, string name, Dictionary<string, string> variables, CancellationToken ct)
    {
        var path = Path.Combine(podman.Directory, name);
        await File.WriteAllLinesAsync(path, variables.Select(v => $"{v.Key}={v.Value}"), ct);
        return path;
    }

    private static async Task<string> UploadAsync(HttpClient http, string productId, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(Corpus.Path(Photo), ct));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "file", Photo);
        form.Add(new StringContent(productId), "productId");
        using var response = await http.PostAsync("/api/uploads", form, ct);
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!;
    }

    private static async Task<string?> StatusAsync(HttpClient http, string id, CancellationToken ct) =>
        (string?)(await StackOnPodmanTests.GetJsonAsync(http, $"/api/uploads/{id}", ct))["status"];

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan limit, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(limit);
        while (!await condition())
        {
            await Task.Delay(TimeSpan.FromSeconds(1), deadline.Token);
        }
    }
}
