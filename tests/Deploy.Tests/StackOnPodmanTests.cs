using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Reference.Deploy.Tests.Support;
using Reference.Tests.Support;
using Xunit.Abstractions;

namespace Reference.Deploy.Tests;

/// <summary>
/// The container export, end to end, with podman standing in for Docker: the images built from
/// deploy/Dockerfile, deploy/compose.yaml as shipped (only images and secrets come from the
/// test's env file), a photo uploaded through the gateway, and everything still there after
/// the stack is taken down and brought up again. docs/deploy-vds.md ("Proven here") says how podman is set up.
/// </summary>
[Collection(PodmanCollection.Name)]
public sealed partial class StackOnPodmanTests(ITestOutputHelper output)
{
    private const string Photo = "kite-2560x1600.jpg";

    [SkippableFact]
    public async Task The_compose_stack_serves_an_uploaded_photo_and_keeps_product_upload_and_files_across_a_restart()
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(15));
        var ct = timeout.Token;
        var phases = new Phases(output);

        await using var podman = await phases.RunAsync("container toolchain", () => PodmanHost.StartAsync(output, ct));
        var images = new TestImages(podman);
        await phases.RunAsync("debian base image (debootstrap; kept by tag)", () => images.EnsureBaseImageAsync(ct));
        var smoke = await podman.Shell.RunAsync("podman", ["run", "--rm", TestImages.BaseImage, "true"], ct, check: false);
        Prerequisite.Require(smoke.Succeeded, "podman cannot run a container here: " + smoke.Errors.Trim());

        var (runtime, mysql, redis, rabbitmq) = await phases.RunAsync("stand-in images (kept by tag)", async () => (
            await images.EnsureRuntimeImageAsync(ct),
            await images.EnsureStandInAsync("mysql", ct),
            await images.EnsureStandInAsync("redis", ct),
            await images.EnsureStandInAsync("rabbitmq", ct)));
        await phases.RunAsync("service images (dotnet publish + podman build)", () => images.EnsureServiceImagesAsync(runtime, ct));
        await phases.RunAsync("image promises", () => AssertImagePromisesAsync(podman, ct));

        var project = "sfe2e" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(3));
        var port = Loopback.FreePort();
        var adminKey = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(20));
        // The passwords and connection strings as an operator makes them (docs/deploy-vds.md), the admin key chosen.
        var secrets = Path.Combine(podman.Directory, project + "-secrets");
        Directory.CreateDirectory(secrets);
        await File.WriteAllTextAsync(Path.Combine(secrets, "admin-key"), adminKey, ct);
        await podman.Shell.RunAsync("sh", [Path.Combine(ComposeFile.DeployDirectory, "make-secrets.sh"), secrets], ct);
        var variables = new Dictionary<string, string>
        {
            ["SECRETS_DIR"] = secrets,
            ["MESSAGING_USER"] = "storefront",
            ["GATEWAY_BIND"] = "127.0.0.1",
            ["GATEWAY_PORT"] = port.ToString(),
            ["STOREFRONT_IMAGE_PREFIX"] = PodmanHost.ImagePrefix,
            ["STOREFRONT_TAG"] = TestImages.ServiceTag,
            // The podman substitutions: Debian-made stand-ins for the official images.
            ["MYSQL_IMAGE"] = mysql,
            ["REDIS_IMAGE"] = redis,
            ["RABBITMQ_IMAGE"] = rabbitmq,
            ["MYSQL_SERVER_VERSION"] = "10.11.0-mariadb",
            // Read by compose.autoscale.yaml only (StackOnPodmanTests.Autoscale.cs).
            ["IMAGEWORKER_IDLE_TIMEOUT"] = IdleTimeout.ToString(@"hh\:mm\:ss"),
        };
        var envFile = Path.Combine(podman.Directory, project + ".env");
        await File.WriteAllLinesAsync(envFile, variables.Select(v => $"{v.Key}={v.Value}"), ct);
        // The databases' set-ups run once and exit; every other container must become healthy.
        var containerCount = ComposeFile.Load(variables).Services.Values.Where(s => !s.Command.Contains("--migrate")).Sum(s => s.Scale);
        var stack = new ComposeStack(podman, project, envFile);

        using var stopHealthChecks = CancellationTokenSource.CreateLinkedTokenSource(ct);
        var healthChecks = podman.RunHealthChecksAsync(project, stopHealthChecks.Token);
        try
        {
            await phases.RunAsync("compose up", () => stack.UpAsync(ct));
            await phases.RunAsync($"all {containerCount} containers healthy",
                () => stack.WaitUntilHealthyAsync(containerCount, TimeSpan.FromMinutes(4), ct));

            var readOnly = await stack.ExecAsync("gateway", "touch /app/probe 2>&1; touch /tmp/probe && echo tmp-writable", ct);
            Assert.Contains("Read-only file system", readOnly);
            Assert.Contains("tmp-writable", readOnly);

            using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(30) };
            http.DefaultRequestHeaders.Add("X-Api-Key", adminKey);
            var productId = await phases.RunAsync("create a product through the gateway", () => CreateProductAsync(http, ct));
            var uploadId = await phases.RunAsync("upload a photo until Ready", () => UploadUntilReadyAsync(http, productId, ct));
            await phases.RunAsync("product shows the photo", () => AssertProductHasPhotoAsync(http, productId, uploadId, ct));
            var workers = await phases.RunAsync("console: workers, queues and the upload",
                () => AssertConsoleSeesTheStackAsync(output, http, uploadId, ComposeFile.Load(variables).Services["imageworker"].Scale, ct));
            await phases.RunAsync("console: drain a worker, the next upload goes to the other",
                () => AssertDrainedWorkerTakesNothingAsync(output, http, productId, workers, ct));
            await phases.RunAsync("console: resume the drained worker", () => AssertResumedWorkerTakesJobsAsync(output, http, workers, ct));
            // The workers on demand, on this same stack; the restart below brings the fixed workers back.
            await AssertWorkersOnDemandAsync(output, phases, stack, http, productId, ct);

            await phases.RunAsync("compose down (volumes kept)", () => stack.DownAsync(volumes: false, ct));
            await phases.RunAsync("compose up again", () => stack.UpAsync(ct));
            await phases.RunAsync("all healthy again", () => stack.WaitUntilHealthyAsync(containerCount, TimeSpan.FromMinutes(4), ct));

            await phases.RunAsync("product, upload record and files survived", async () =>
            {
                await AssertProductHasPhotoAsync(http, productId, uploadId, ct);
                var upload = await GetJsonAsync(http, $"/api/uploads/{uploadId}", ct);
                Assert.Equal("Ready", (string?)upload["status"]);
                Assert.Equal(productId, (string?)upload["productId"]);
                Assert.Contains(uploadId, await stack.ExecAsync("uploadapi-1", "ls /data/images/originals", ct));
                Assert.NotEmpty((await stack.ExecAsync("imageworker", $"ls /data/images/variants/{uploadId}", ct)).Trim());
            });
        }
        catch (Exception)
        {
            using var postMortem = new CancellationTokenSource(TimeSpan.FromMinutes(1));
            output.WriteLine(await stack.PostMortemAsync(40, postMortem.Token));
            throw;
        }
        finally
        {
            await stopHealthChecks.CancelAsync();
            await healthChecks;
            using var cleanup = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            await phases.RunAsync("tear down (containers, volumes, networks)", async () =>
            {
                try
                {
                    await stack.DownAsync(volumes: true, cleanup.Token);
                }
                finally
                {
                    await stack.RemoveLeftoversAsync(cleanup.Token);
                    File.Delete(envFile);
                    Directory.Delete(secrets, recursive: true);
                }
            });
            phases.Report();
        }
    }

    /// <summary>Non-root, a health check, and the runtime without the SDK, as deploy/Dockerfile promises.</summary>
    private static async Task AssertImagePromisesAsync(PodmanHost podman, CancellationToken ct)
    {
        foreach (var image in TestImages.Services.Select(TestImages.ServiceImage))
        {
            var config = await podman.Shell.RunAsync("podman",
                ["image", "inspect", image, "--format", "{{.Config.User}}|{{if .Config.Healthcheck}}{{index .Config.Healthcheck.Test 0}}{{end}}"], ct);
            Assert.Equal("1654:1654|CMD", config.Output.Trim());
        }

        var sdks = await podman.Shell.RunAsync("podman",
            ["run", "--rm", "--entrypoint", "dotnet", TestImages.ServiceImage("Gateway"), "--list-sdks"], ct);
        Assert.Equal("", sdks.Output.Trim());
    }

    internal static async Task<string> CreateProductAsync(HttpClient http, CancellationToken ct)
    {
        // The gateway answers before its first active health probe has seen each replica.
        for (var attempt = 0; ; attempt++)
        {
            using var categories = await http.GetAsync("/api/inventory/categories", ct);
            if (categories.IsSuccessStatusCode || attempt == 60)
            {
                Assert.Equal(HttpStatusCode.OK, categories.StatusCode);
                break;
            }

            await Task.Delay(TimeSpan.FromSeconds(1), ct);
        }

        var sku = "E2E-" + Convert.ToHexString(RandomNumberGenerator.GetBytes(4));
        using var response = await http.PostAsJsonAsync("/api/inventory/products", new
        {
            sku,
            name = "Kite",
            description = "Flies in any weather.",
            category = "Outdoors",
            price = 39.90m,
            currency = "EUR",
            stock = 5,
        }, ct);
        Assert.True(response.StatusCode == HttpStatusCode.Created, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        return (string)(await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!;
    }

    private static async Task<string> UploadUntilReadyAsync(HttpClient http, string productId, CancellationToken ct)
    {
        using var form = new MultipartFormDataContent();
        var file = new ByteArrayContent(await File.ReadAllBytesAsync(Corpus.Path(Photo), ct));
        file.Headers.ContentType = new MediaTypeHeaderValue("image/jpeg");
        form.Add(file, "file", Photo);
        form.Add(new StringContent(productId), "productId");
        using var response = await http.PostAsync("/api/uploads", form, ct);
        Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {await response.Content.ReadAsStringAsync(ct)}");
        var uploadId = (string)(await response.Content.ReadFromJsonAsync<JsonObject>(ct))!["id"]!;

        for (var attempt = 0; attempt < 240; attempt++)
        {
            var upload = await GetJsonAsync(http, $"/api/uploads/{uploadId}", ct);
            var status = (string?)upload["status"];
            Assert.True(status != "Failed", "The upload failed: " + upload["reason"]);
            if (status == "Ready")
            {
                return uploadId;
            }

            await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
        }

        throw new TimeoutException($"Upload {uploadId} was not Ready after 2 minutes.");
    }

    internal static async Task AssertProductHasPhotoAsync(HttpClient http, string productId, string uploadId, CancellationToken ct)
    {
        // Ready is UploadApi's view; InventoryApi attaches the photo when it consumes the same
        // ImageProcessed event, which may be a moment later.
        JsonNode? image = null;
        for (var attempt = 0; image is null; attempt++)
        {
            var product = await GetJsonAsync(http, $"/api/inventory/products/{productId}", ct);
            image = product["images"]!.AsArray().SingleOrDefault(i => (string?)i!["uploadId"] == uploadId);
            Assert.True(image is not null || attempt < 60, $"Upload {uploadId} is not among the product's images after 30 s: {product.ToJsonString()}");
            if (image is null)
            {
                await Task.Delay(TimeSpan.FromMilliseconds(500), ct);
            }
        }

        var variants = image!["variants"]!.AsArray();
        Assert.NotEmpty(variants);
        foreach (var variant in variants)
        {
            using var file = await http.GetAsync((string)variant!["url"]!, ct);
            Assert.Equal(HttpStatusCode.OK, file.StatusCode);
            Assert.StartsWith("image/", file.Content.Headers.ContentType?.MediaType);
            Assert.Equal((long)variant["bytes"]!, (await file.Content.ReadAsByteArrayAsync(ct)).LongLength);
        }
    }

    internal static async Task<JsonObject> GetJsonAsync(HttpClient http, string path, CancellationToken ct)
    {
        using var response = await http.GetAsync(path, ct);
        Assert.True(response.IsSuccessStatusCode, $"GET {path}: {response.StatusCode} {await response.Content.ReadAsStringAsync(ct)}");
        return (await response.Content.ReadFromJsonAsync<JsonObject>(ct))!;
    }

}
