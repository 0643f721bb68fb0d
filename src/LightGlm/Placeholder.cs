namespace LightGlm;
