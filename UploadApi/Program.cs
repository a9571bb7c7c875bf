using Reference.UploadApi.Apis;
using Reference.UploadApi;
using Reference.UploadApi.Infrastructure;

var builder = WebApplication.CreateBuilder(args);
builder.AddServiceDefaults();
builder.AddApplicationServices();

var app = builder.Build();
app.UseExceptionHandler();
app.UseStatusCodePages();
app.MapDefaultEndpoints();
app.MapUploadsApi();
app.MapOperationsApi();

await app.Services.MigrateUnderLockAsync<UploadDbContext>();
app.Run();

public partial class Program;
