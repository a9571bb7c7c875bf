using Microsoft.Extensions.Configuration;
using Reference.AppHost;
using Reference.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Reference.AppHost.Backing;
using Reference.AppHost.Operations;
using Reference.AppHost.Scaling;
using Reference.AppHost.Supervision;

var builder = DistributedApplication.CreateBuilder(args);

var backing = builder.AddBackingServices();
builder.Services.AddHostedService<CrashRestarter>();

// Set with Parameters__admin-key=... (or user secrets); generated and kept on first run otherwise.
var adminKey = builder.AddParameter("admin-key", new GenerateParameterDefault { MinLength = 32, Special = false }, secret: true, persist: true);
// The image folder, or with Storage:Kind=S3 an S3 server of its own (AppHost/Backing/ImageStorageResources.cs).
var imageStorage = builder.AddImageStorage();
// One number for UploadApi's file limit and the gateway's upload body limit (it adds the form around the file).
var maxUploadBytes = builder.Configuration.GetValue(ImageLimits.MaxBytesSetting, ImageLimits.MaxBytes).ToString();

// Migrations and the services' database users, once per start: the replicas wait for them to finish.
var inventoryDbSetup = builder.AddDatabaseSetup<Projects.InventoryApi>(backing, backing.InventoryDb);
var uploadDbSetup = builder.AddDatabaseSetup<Projects.UploadApi>(backing, backing.UploadDb);

// Run on 2 cores or fewer, one replica of each API: a second buys availability, not speed, and costs CPU
// and ~250 MB (docs/performance.md). A published model describes a server: 2. Replicas:* sets any count.
var apiReplicas = builder.ExecutionContext.IsRunMode && Environment.ProcessorCount <= 2 ? 1 : 2;
var inventoryApi = builder.AddReplicas<Projects.InventoryApi>("inventoryapi", builder.ReplicaCount("InventoryApi", apiReplicas), service => service
    .WithBacking(backing)
    .WithReference(backing.InventoryDb).WaitForCompletion(inventoryDbSetup)
    .WithLoginsOf(backing, "inventoryapi")
    .WithEnvironment("Auth__AdminKey", adminKey));

var uploadApi = builder.AddReplicas<Projects.UploadApi>("uploadapi", builder.ReplicaCount("UploadApi", apiReplicas), service => service
    .WithBacking(backing)
    .WithReference(backing.UploadDb).WaitForCompletion(uploadDbSetup)
    .WithLoginsOf(backing, "uploadapi")
    .WithEnvironment("Auth__AdminKey", adminKey)
    .WithEnvironment("Uploads__MaxBytes", maxUploadBytes)
    .WithImageStorage(imageStorage)
    // The jobs console reads the queues' figures as the monitoring-only broker user.
    .WithReference(backing.MessagingMonitor, "messaging-monitor")
    // Its error-queue re-drive and purge, as the operator broker user (uploadapi's own may not touch other services' queues).
    .WithReference(backing.MessagingOperator, "messaging-operator"));

// An elastic pool (Scaling:*, AppHost/Scaling): workers start when uploads wait and stop when idle.
// No database credential: the worker reads originals and writes variants, through its own broker and Redis users.
var imageWorkers = builder.AddImageWorkerPool(backing, service => service
    .WithLoginsOf(backing, "imageworker")
    .WithImageStorage(imageStorage));

var gateway = builder.AddProject<Projects.Gateway>("gateway", launchProfileName: null)
    .RunFromBuiltOutput()
    .WithHttpEndpoint(port: builder.Configuration.GetValue("Gateway:Port", 8080), name: "http", isProxied: false)
    .WithExternalHttpEndpoints()
    .WithHttpHealthCheck(HealthEndpoints.HealthPath)
    // Aspire turns forwarded headers on for every project; the gateway is the edge and must take the
    // client address from the connection, or a client could choose its own rate-limit bucket.
    .WithEnvironment("ASPNETCORE_FORWARDEDHEADERS_ENABLED", "false")
    // Only to recognise the admin, whose budget is its own (Gateway:AdminUploadRateLimit).
    .WithEnvironment("Auth__AdminKey", adminKey)
    .WithReplicaReferences("inventoryapi", inventoryApi)
    .WithReplicaReferences("uploadapi", uploadApi)
    .WithEnvironment("Uploads__MaxBytes", maxUploadBytes)
    .WithImageStorage(imageStorage);

// The jobs console's actions on the dashboard (AppHost/Operations).
foreach (var worker in imageWorkers)
{
    worker.WithDrainCommands(gateway, adminKey);
}

uploadApi[0].WithRetryFailedCommand(gateway, adminKey);

// API replicas 2..N start stopped and follow the gateway's measured latency (Scaling:Apis, AppHost/Scaling/ApiScaling.cs).
builder.AddApiScaling(backing, gateway, adminKey, ("InventoryApi", inventoryApi), ("UploadApi", uploadApi));

builder.Build().Run();
