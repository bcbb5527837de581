// placeholder until nn modules land
