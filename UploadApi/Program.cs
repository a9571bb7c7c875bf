using Reference.UploadApi.Apis;
using Reference.UploadApi;
using Reference.UploadApi.Infrastructure;

if (DatabaseSetup.IsRequested(args))
{
    var setup = Host.CreateApplicationBuilder(args);
    setup.AddServiceDefaults();
    await setup.RunDatabaseSetupAsync<UploadDbContext>("uploaddb");
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapDefaultEndpoints();
app.MapUploadsApi();
app.MapOperationsApi();

// Migrations are the one-shot set-up's job (--migrate); in-process tests have none and ask for them here.
if (app.Configuration.GetValue(DatabaseSetup.MigrateAtStartKey, false))
{
    await app.Services.MigrateUnderLockAsync<UploadDbContext>();
}

app.Run();

public partial class Program;
